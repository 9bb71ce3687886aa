// The submission form: builds JSON-LD from the fields generated from the shapes, sends it with the
// token and places the server's SHACL messages next to the fields they concern.
(function () {
  "use strict";
  var T = window.zitkgToken;
  var S = T.strings;
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var lang = document.documentElement.lang || "pl";
  var form = document.getElementById("record-form");
  var messages = document.getElementById("form-messages");
  var mine = document.querySelector("#mine tbody");
  var base = form.dataset.base || "";

  function periodType(value) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) { return XSD + "date"; }
    if (/^\d{4}-\d{2}$/.test(value)) { return XSD + "gYearMonth"; }
    if (/^\d{4}$/.test(value)) { return XSD + "gYear"; }
    return XSD + "string";
  }
  function values(field) {
    var widget = field.dataset.widget;
    var out = [];
    if (widget === "lang-text" || widget === "lang-area") {
      field.querySelectorAll("[data-lang]").forEach(function (input) {
        if (input.value.trim()) { out.push({"@value": input.value.trim(), "@language": input.dataset.lang}); }
      });
      return out;
    }
    if (widget === "select") {
      Array.prototype.forEach.call(field.querySelector("select").selectedOptions, function (option) {
        if (option.value) { out.push({"@id": option.value}); }
      });
      return out;
    }
    var value = field.querySelector("input").value.trim();
    if (!value) { return out; }
    if (widget === "iri") { return [{"@id": value}]; }
    if (widget === "period") { return [{"@value": value, "@type": periodType(value)}]; }
    if (widget === "date" || widget === "number") { return [{"@value": value, "@type": field.dataset.datatype}]; }
    return [{"@value": value}];
  }
  function record() {
    var node = {"@id": "_:record", "@type": [form.dataset.class]};
    form.querySelectorAll(".field").forEach(function (field) {
      var found = values(field);
      if (found.length) { node[field.dataset.path] = (node[field.dataset.path] || []).concat(found); }
    });
    return node;
  }
  function clear() {
    messages.replaceChildren();
    form.querySelectorAll(".errors").forEach(function (box) { box.replaceChildren(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }
  function paragraph(text, className) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }
  function show(response) {
    var details = (response.data && response.data.details) || {};
    var results = details.results || [];
    // A 422 is explained field by field below; other errors keep the server's own message.
    messages.appendChild(paragraph(
      response.status === 422 ? S.failed : ((response.data && response.data.message) || String(response.status)),
      "error"));
    var loose = document.createElement("ul");
    results.forEach(function (result) {
      var text = (result.message && (result.message[lang] || result.message.pl)) || result.component;
      var cls = result.severity === "Violation" ? "field-error" : "field-warning";
      var field = result.path ? form.querySelector('.field[data-path="' + CSS.escape(result.path) + '"]') : null;
      if (field) {
        field.querySelector(".errors").appendChild(paragraph(text, cls));
        if (result.severity === "Violation") {
          field.querySelectorAll("input, select, textarea").forEach(function (input) {
            input.setAttribute("aria-invalid", "true");
          });
        }
      } else {
        var li = document.createElement("li");
        li.className = cls;
        li.textContent = text + (result.path ? " (" + result.path + ")" : "");
        loose.appendChild(li);
      }
    });
    if (loose.children.length) { messages.appendChild(loose); }
    var first = form.querySelector("[aria-invalid=true]");
    if (first) { first.focus(); }
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clear();
    if (!T.get()) { messages.appendChild(paragraph(S.noToken, "error")); return; }
    messages.appendChild(paragraph(S.sending, "muted"));
    T.request("POST", "/api/submissions", JSON.stringify(record()), "application/ld+json").then(function (r) {
      clear();
      if (r.status === 201) {
        messages.appendChild(paragraph(S.created.replace("{id}", r.data.id), "ok"));
        form.reset();
        refresh();
      } else if (r.status === 401 || r.status === 403) {
        messages.appendChild(paragraph(S.unauthorized + " " + ((r.data && r.data.message) || ""), "error"));
      } else {
        show(r);
      }
    });
  });

  var upload = document.getElementById("upload-form");
  var uploadMessages = document.getElementById("upload-messages");
  upload.addEventListener("submit", function (event) {
    event.preventDefault();
    uploadMessages.replaceChildren();
    var file = document.getElementById("upload-file").files[0];
    if (!file) { return; }
    if (!T.get()) { uploadMessages.appendChild(paragraph(S.noToken, "error")); return; }
    var type = /\.xlsx$/i.test(file.name)
      ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
    T.request("POST", "/api/submissions", file, type).then(function (r) {
      if (r.status === 201) {
        uploadMessages.appendChild(paragraph(S.created.replace("{id}", r.data.id), "ok"));
        refresh();
        return;
      }
      uploadMessages.appendChild(paragraph(
        r.status === 422 ? S.failed : ((r.data && r.data.message) || String(r.status)), "error"));
      var list = document.createElement("ul");
      var details = (r.data && r.data.details) || {};
      // SHACL results (422) or rows the template reader could not read (400), both with row and column.
      (details.results || details.errors || []).forEach(function (result) {
        var li = document.createElement("li");
        var where = result.row ? S.row + " " + result.row + (result.column ? ", " + S.column + " " + result.column : "") + ": " : "";
        li.textContent = where + ((result.message && (result.message[lang] || result.message.pl)) || "");
        list.appendChild(li);
      });
      uploadMessages.appendChild(list);
    });
  });

  function refresh() {
    if (!T.get()) { mine.replaceChildren(); return; }
    T.request("GET", "/api/submissions").then(function (r) {
      mine.replaceChildren();
      var items = (r.ok && r.data.submissions) || [];
      if (!items.length) {
        var row = mine.insertRow();
        var cell = row.insertCell();
        cell.colSpan = 4;
        cell.textContent = r.ok ? S.empty : S.unauthorized;
        return;
      }
      items.slice().reverse().forEach(function (s) {
        var row = mine.insertRow();
        row.dataset.status = s.status;
        row.insertCell().textContent = s.id;
        row.insertCell().textContent = S.status[s.status] || s.status;
        row.insertCell().textContent = s.created;
        var cell = row.insertCell();
        s.describes.forEach(function (iri) {
          cell.appendChild(window.zitkgLinks.anchor(iri, iri, base));
          cell.appendChild(document.createElement("br"));
        });
        if (s.rejectionReason) { cell.appendChild(document.createTextNode(s.rejectionReason)); }
      });
    });
  }
  document.getElementById("mine-refresh").addEventListener("click", refresh);
  T.init(refresh);
  refresh();
}());
