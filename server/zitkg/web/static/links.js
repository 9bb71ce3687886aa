// Links only where they are safe: the browser's own URL parser reads the scheme of an IRI from the
// data, and only http:, https: and mailto: (an allow-list, as in zitkg/links.py) become links; any
// other IRI is shown as text. Loaded on every page before the page's own scripts.
window.zitkgLinks = (function () {
  "use strict";
  var SCHEMES = {"http:": true, "https:": true, "mailto:": true};
  // The address a link to `iri` may have, or null. IRIs under `base` (the graph's base IRI) open
  // their page on this site. The scheme is the one the browser itself reads when the link is followed
  // (the same parser, leading spaces, control characters and tabs dropped as it drops them).
  function safeHref(iri, base) {
    if (typeof iri !== "string" || !iri) { return null; }
    var value = base && iri.indexOf(base) === 0 ? "/" + iri.slice(base.length) : iri;
    var url;
    try { url = new URL(value, document.baseURI); } catch (e) { return null; }
    return Object.prototype.hasOwnProperty.call(SCHEMES, url.protocol) ? value : null;
  }
  // An <a> to `iri` showing `label`, or a <span> with the label when the IRI may not be a link.
  function anchor(iri, label, base) {
    var href = safeHref(iri, base);
    var el = document.createElement(href ? "a" : "span");
    if (href) { el.href = href; } else { el.className = "nolink"; }
    el.textContent = label;
    return el;
  }
  return {safeHref: safeHref, anchor: anchor};
}());
