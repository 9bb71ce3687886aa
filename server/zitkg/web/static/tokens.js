// The API token of a submitter or reviewer: pasted once, kept in sessionStorage (this tab only).
window.zitkgToken = (function () {
  "use strict";
  var KEY = "zitkg-token";
  var strings = JSON.parse(document.getElementById("ui-strings").textContent);
  var status = document.getElementById("token-status");
  function get() { return window.sessionStorage.getItem(KEY); }
  function say(text) { status.textContent = text; }
  function init(onChange) {
    var form = document.getElementById("token-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("token");
      var value = input.value.trim();
      if (!value) { say(strings.noToken); return; }
      window.sessionStorage.setItem(KEY, value);
      input.value = "";
      say(strings.saved);
      onChange();
    });
    document.getElementById("token-forget").addEventListener("click", function () {
      window.sessionStorage.removeItem(KEY);
      say(strings.forgotten);
      onChange();
    });
    if (get()) { say(strings.saved); }
  }
  function request(method, url, body, type) {
    var headers = {Accept: "application/json", Authorization: "Bearer " + (get() || "")};
    if (type) { headers["Content-Type"] = type; }
    return fetch(url, {method: method, headers: headers, body: body}).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = {message: text}; }
        return {status: r.status, ok: r.ok, data: data};
      });
    });
  }
  return {get: get, init: init, request: request, strings: strings, say: say};
}());
