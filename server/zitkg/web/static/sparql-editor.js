// YASGUI against this server's /sparql; the library's questions load as examples.
(function () {
  "use strict";
  var el = document.getElementById("yasgui");
  if (!el || typeof Yasgui === "undefined") { return; }
  var examples = JSON.parse(document.getElementById("examples").textContent);
  // Class and property completion would ask a public vocabulary service: keep to local completers.
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  var yasgui = new Yasgui(el, {
    requestConfig: {endpoint: el.dataset.endpoint, method: "POST"},
    copyEndpointOnNewTab: false,
    persistenceId: null,
    populateFromUrl: false,
    endpointCatalogueOptions: {getData: function () { return [{endpoint: el.dataset.endpoint}]; }}
  });
  window.zitkgYasgui = yasgui;
  function load(id, run) {
    var example = examples.find(function (e) { return e.id === id; });
    if (!example) { return; }
    var tab = yasgui.getTab();
    tab.setQuery(example.query);
    if (run) { tab.query(); }
  }
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      load(button.dataset.example, true);
      el.scrollIntoView();
    });
  });
  if (el.dataset.chosen) { load(el.dataset.chosen, false); }
}());
