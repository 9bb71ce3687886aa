// Reviewers: pending submissions with publish and reject (with a reason).
(function () {
  "use strict";
  var T = window.zitkgToken;
  var S = T.strings;
  var table = document.getElementById("pending");
  var body = table.querySelector("tbody");
  var base = table.dataset.base || "";
  function name(iri) { return (S.organisations || {})[iri] || iri; }
  function refresh() {
    body.replaceChildren();
    if (!T.get()) { return; }
    T.request("GET", "/api/submissions?status=pending").then(function (r) {
      var items = (r.ok && r.data.submissions) || [];
      if (!items.length) {
        var cell = body.insertRow().insertCell();
        cell.colSpan = 5;
        cell.textContent = r.ok ? S.empty : S.unauthorized + " " + ((r.data && r.data.message) || "");
        return;
      }
      items.forEach(function (s) {
        var row = body.insertRow();
        row.dataset.id = s.id;
        row.insertCell().textContent = s.id;
        var who = row.insertCell();
        who.textContent = name(s.organisation);
        var waiting = (s.confirmation && s.confirmation.waitingFor) || [];
        if (waiting.length) {
          // Credit for another organisation: it confirms before anyone can publish.
          var note = document.createElement("p");
          note.className = "waiting";
          note.textContent = S.waitingFor + " " + waiting.map(name).join(", ");
          who.appendChild(note);
        }
        row.insertCell().textContent = s.created;
        var records = row.insertCell();
        s.describes.forEach(function (iri) {
          // Its page answers once the submission is published; an IRI that may not be a link is text.
          records.appendChild(window.zitkgLinks.anchor(iri, iri, base));
          records.appendChild(document.createElement("br"));
        });
        // What was sent, as Turtle, loaded when the reviewer opens it.
        var details = document.createElement("details");
        var summary = document.createElement("summary");
        summary.textContent = S.content;
        var pre = document.createElement("pre");
        pre.className = "sparql";
        details.append(summary, pre);
        details.addEventListener("toggle", function () {
          if (!details.open || pre.textContent) { return; }
          T.request("GET", s.links.self).then(function (x) {
            pre.textContent = x.ok ? x.data.content : ((x.data && x.data.message) || String(x.status));
          });
        });
        records.appendChild(details);
        var decide = row.insertCell();
        var me = T.account();
        if (me && waiting.indexOf(me.organisation) >= 0) {
          var confirm = document.createElement("button");
          confirm.type = "button";
          confirm.textContent = S.confirm;
          confirm.addEventListener("click", function () {
            T.request("POST", s.links.confirm).then(function (x) {
              T.say(x.ok ? S.confirmed : T.summary(x.data) || x.status, x.ok ? "ok" : "error");
              refresh();
            });
          });
          decide.append(confirm, " ");
        }
        if (me && me.role === "submitter") { return; }
        var publish = document.createElement("button");
        publish.type = "button";
        publish.textContent = S.publish;
        publish.addEventListener("click", function () {
          T.request("POST", s.links.publish).then(function (x) {
            T.say(x.ok ? S.published : T.summary(x.data) || x.status, x.ok ? "ok" : "error");
            refresh();
          });
        });
        var label = document.createElement("label");
        label.textContent = S.reason;
        var reason = document.createElement("input");
        reason.type = "text";
        reason.id = "reason-" + s.id;
        label.htmlFor = reason.id;
        var reject = document.createElement("button");
        reject.type = "button";
        reject.className = "secondary";
        reject.textContent = S.reject;
        reject.addEventListener("click", function () {
          if (!reason.value.trim()) { T.say(S.reasonMissing); reason.focus(); return; }
          T.request("POST", s.links.reject, JSON.stringify({reason: reason.value.trim()}), "application/json")
            .then(function (x) {
              T.say(x.ok ? S.rejected : T.summary(x.data) || x.status, x.ok ? "ok" : "error");
              refresh();
            });
        });
        decide.append(publish, " ", label, " ", reason, " ", reject);
      });
    });
  }
  T.init(refresh);
  refresh();
}());
