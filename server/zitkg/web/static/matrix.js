// Coverage matrix: a cell opens its list of practices and pilots below the table (the links work without it).
(function () {
  "use strict";
  var panel = document.getElementById("cell-panel");
  if (!panel) { return; }
  document.querySelectorAll("a.cell-link").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      fetch(link.href, {headers: {Accept: "text/html"}})
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var detail = doc.getElementById("cell-detail");
          panel.replaceChildren(document.importNode(detail, true));
          var heading = panel.querySelector("h2");
          if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        });
    });
  });
}());
