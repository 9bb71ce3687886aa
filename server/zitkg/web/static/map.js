// The map: Leaflet with markers for MOFs, associations and pilots and lines for network links.
// Tiles only when the server is configured with a tile URL; everything else renders without them.
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || typeof L === "undefined") { return; }
  var COLOURS = {association: "#0b4f8a", mof: "#4d4d4d", pilot: "#b35806"};
  var map = L.map(el, {zoomSnap: 0.5}).setView([52.0, 19.4], 6);
  if (el.dataset.tiles) {
    L.tileLayer(el.dataset.tiles, {attribution: el.dataset.attribution || "", maxZoom: 18}).addTo(map);
  }
  function popup(p) {
    // Built from DOM nodes: labels come from the data and are never parsed as HTML.
    // The server gives href only for IRIs that may be links; links.js checks the scheme again.
    var box = document.createElement("div");
    box.appendChild(window.zitkgLinks.anchor(p.href, p.label));
    if (p.kind === "link") {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.fromLabel + " — " + p.toLabel));
    } else if (p.placeLabel) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(p.placeLabel + (p.approximate ? " (" + el.dataset.approximate + ")" : "")));
    }
    return box;
  }
  fetch(el.dataset.src, {headers: {Accept: "application/geo+json"}})
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var order = {link: 0, mof: 1, pilot: 2, association: 3};
      data.features.sort(function (a, b) { return order[a.properties.kind] - order[b.properties.kind]; });
      var layer = L.geoJSON(data, {
        style: function (f) {
          // GeoJSON layers apply this to circle markers too: only lines get the link style.
          if (f.geometry.type !== "LineString") { return {}; }
          return {color: f.properties.colour, weight: 3, dashArray: "8 5", opacity: 0.9,
                  className: "zitkg-link"};
        },
        pointToLayer: function (f, latlng) {
          var k = f.properties.kind;
          var options = k === "mof"
            ? {radius: 13, color: COLOURS.mof, weight: 2, fillColor: "#ffffff", fillOpacity: 0.6}
            : {radius: k === "association" ? 8 : 6, color: "#ffffff", weight: 2, fillColor: COLOURS[k], fillOpacity: 1};
          options.className = "zitkg-marker zitkg-" + k;
          return L.circleMarker(latlng, options);
        },
        onEachFeature: function (f, l) {
          l.bindPopup(popup(f.properties));
          l.bindTooltip(f.properties.label);
        }
      }).addTo(map);
      if (layer.getLayers().length) { map.fitBounds(layer.getBounds(), {padding: [30, 30], maxZoom: 9}); }
      el.dataset.loaded = String(data.features.length);
    })
    .catch(function (e) { el.dataset.error = String(e); });
}());
