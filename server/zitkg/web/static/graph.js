// The graph view of an entity page: Cytoscape.js over /graph.json. Click expands a node, double-click opens it.
(function () {
  "use strict";
  var el = document.getElementById("graph");
  if (!el || typeof cytoscape === "undefined") { return; }
  var status = document.getElementById("graph-status");
  var legend = document.getElementById("graph-legend");
  var expanded = {};
  var classes = {};
  var cy = cytoscape({
    container: el,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      {selector: "node", style: {
        "background-color": "data(colour)", "label": "data(short)", "font-size": 10, "color": "#1a1a1a",
        "text-valign": "bottom", "text-margin-y": 3, "width": 18, "height": 18,
        "text-background-color": "#ffffff", "text-background-opacity": 0.8, "text-background-padding": 1}},
      {selector: "node.root", style: {"width": 28, "height": 28, "border-width": 3, "border-color": "#1a1a1a"}},
      {selector: "node.expanded", style: {"border-width": 2, "border-color": "#1a1a1a"}},
      {selector: "edge", style: {
        "width": 1.2, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1", "target-arrow-shape": "triangle",
        "curve-style": "bezier", "arrow-scale": 0.8, "label": "data(label)", "font-size": 8, "color": "#4a4a4a",
        "text-rotation": "autorotate", "text-opacity": 0}},
      {selector: "edge:selected, node:selected + edge", style: {"text-opacity": 1}}
    ]
  });
  window.zitkgGraph = cy;
  function short(label) { return label.length > 30 ? label.slice(0, 28) + "…" : label; }
  function remember(node) {
    if (classes[node.class]) { return; }
    classes[node.class] = true;
    var li = document.createElement("li");
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = node.colour;
    li.appendChild(swatch);
    li.appendChild(document.createTextNode(node.classLabel));
    legend.appendChild(li);
  }
  function load(iri) {
    if (expanded[iri]) { return Promise.resolve(); }
    expanded[iri] = true;
    var url = new URL(el.dataset.src, window.location.href);
    url.searchParams.set("resource", iri);
    return fetch(url, {headers: {Accept: "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var added = 0;
        cy.batch(function () {
          data.nodes.forEach(function (n) {
            remember(n);
            if (cy.getElementById(n.id).empty()) {
              cy.add({group: "nodes", data: {id: n.id, label: n.label, short: short(n.label), colour: n.colour,
                                             href: n.href, cls: n.class}});
              added += 1;
            }
          });
          data.edges.forEach(function (e) {
            if (cy.getElementById(e.id).empty()) {
              cy.add({group: "edges", data: {id: e.id, source: e.source, target: e.target, label: e.label}});
            }
          });
        });
        cy.getElementById(iri).addClass("expanded");
        layout();
        status.textContent = status.dataset.template.replace("{nodes}", cy.nodes().length)
          .replace("{edges}", cy.edges().length);
        el.dataset.nodes = String(cy.nodes().length);
        return added;
      });
  }
  var root = new URL(el.dataset.src, window.location.href).searchParams.get("resource");
  function layout() {
    // Rings by the number of links from the page's resource: it sits in the middle, its neighbours
    // around it, what an expansion adds further out.
    var hops = cy.elements().dijkstra({root: cy.getElementById(root), directed: false});
    cy.layout({name: "concentric", animate: false, minNodeSpacing: 28, padding: 20,
               concentric: function (node) {
                 var d = hops.distanceTo(node);
                 return isFinite(d) ? 10 - d : 0;
               },
               levelWidth: function () { return 1; }}).run();
  }
  load(root).then(function () { cy.getElementById(root).addClass("root"); });
  cy.on("tap", "node", function (event) { load(event.target.id()); });
  cy.on("dbltap", "node", function (event) {
    var href = window.zitkgLinks.safeHref(event.target.data("href"));  // a page of this site, or nothing
    if (href) { window.location.href = href; }
  });
}());
