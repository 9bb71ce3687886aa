// The API token of a submitter or reviewer: pasted once, checked at once with GET /api/whoami (its
// organisation and role are shown, a wrong token is refused there and then), kept in sessionStorage.
window.zitkgToken = (function () {
  "use strict";
  var KEY = "zitkg-token";
  var strings = JSON.parse(document.getElementById("ui-strings").textContent);
  var lang = document.documentElement.lang || "pl";
  var status = document.getElementById("token-status");
  var input = document.getElementById("token");
  var account = null;
  function get() { return window.sessionStorage.getItem(KEY); }
  function say(text, className) {
    status.textContent = text;
    status.className = className || "";
  }
  function request(method, url, body, type, token) {
    var headers = {Accept: "application/json", Authorization: "Bearer " + (token || get() || "")};
    if (type) { headers["Content-Type"] = type; }
    return fetch(url, {method: method, headers: headers, body: body}).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = {message: text}; }
        return {status: r.status, ok: r.ok, data: data};
      });
    });
  }
  function summary(data) {
    var s = data && data.details && data.details.summary;
    return (s && (s[lang] || s.pl)) || (data && data.message) || "";
  }
  function describe(who) {
    var name = (who.label && (who.label[lang] || who.label.pl)) || who.organisation;
    return strings.tokenOf.replace("{organisation}", name).replace("{role}", (strings.roles || {})[who.role] || who.role);
  }
  // Check a token with the server; keep it only when the server knows it.
  function check(value, onChange) {
    if (!value) { say(strings.noToken, "error"); return Promise.resolve(false); }
    say(strings.checking, "muted");
    return request("GET", "/api/whoami", null, null, value).then(function (r) {
      if (!r.ok) {
        account = null;
        if (input) { input.setAttribute("aria-invalid", "true"); }
        say(strings.tokenRefused + " " + summary(r.data), "error");
        return false;
      }
      account = r.data;
      window.sessionStorage.setItem(KEY, value);
      if (input) { input.value = ""; input.removeAttribute("aria-invalid"); }
      say(describe(r.data), "ok");
      if (onChange) { onChange(); }
      return true;
    });
  }
  function init(onChange) {
    var form = document.getElementById("token-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      check(input.value.trim(), onChange);
    });
    // A pasted token is checked at once, without a click.
    input.addEventListener("paste", function () {
      window.setTimeout(function () { check(input.value.trim(), onChange); }, 0);
    });
    document.getElementById("token-forget").addEventListener("click", function () {
      window.sessionStorage.removeItem(KEY);
      account = null;
      say(strings.forgotten);
      onChange();
    });
    if (get()) {
      request("GET", "/api/whoami").then(function (r) {
        if (r.ok) { account = r.data; say(describe(r.data), "ok"); onChange(); } else {
          window.sessionStorage.removeItem(KEY);
          say(strings.tokenRefused + " " + summary(r.data), "error");
          onChange();
        }
      });
    }
  }
  return {get: get, init: init, request: request, strings: strings, say: say, summary: summary,
          account: function () { return account; }};
}());
