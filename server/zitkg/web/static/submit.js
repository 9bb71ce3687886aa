// The submission form: fields generated from the shapes, searchable lists (Tom Select), nested records
// as repeatable groups, checks in the browser from the same rules before sending (the server stays the
// judge), a draft kept in this browser, and the server's messages placed at the fields they concern.
(function () {
  "use strict";
  var T = window.zitkgToken;
  var S = T.strings;
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
  var lang = document.documentElement.lang || "pl";
  var form = document.getElementById("record-form");
  var messages = document.getElementById("form-messages");
  var draftStatus = document.getElementById("draft-status");
  var mine = document.querySelector("#mine tbody");
  var base = form.dataset.base || "";
  var DRAFT = "zitkg-draft-" + form.dataset.kind;
  var restoring = false;

  // --- widgets -------------------------------------------------------------------------------------
  function enhance(root) {
    if (!window.TomSelect) { return; }
    root.querySelectorAll("select.pick").forEach(function (select) {
      if (select.tomselect) { return; }
      // Tom Select points the label at its own search box; the hidden list keeps a name of its own.
      var label = document.querySelector('label[for="' + select.id + '"]');
      if (label) { select.setAttribute("aria-label", label.textContent.trim()); }
      var picker = new window.TomSelect(select, {
        plugins: select.multiple ? ["remove_button"] : [],
        maxOptions: null,
        closeAfterSelect: true,
        refreshThrottle: 0,  // the default 300 ms reopened the list after a quick Enter
        create: false,
        allowEmptyOption: false,
        placeholder: S.pickPlaceholder,
        render: {
          no_results: function () {
            var div = document.createElement("div");
            div.className = "no-results";
            div.textContent = S.noResults;
            return div;
          }
        }
      });
      picker.on("change", save);
    });
  }
  function renumber(row, n) {
    row.querySelectorAll("[id]").forEach(function (el) { el.id = el.id + "-" + n; });
    row.querySelectorAll("label[for]").forEach(function (el) { el.htmlFor = el.htmlFor + "-" + n; });
    row.querySelectorAll("[aria-describedby]").forEach(function (el) {
      el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").split(" ").map(function (id) {
        return id + "-" + n;
      }).join(" "));
    });
    row.querySelectorAll("[list]").forEach(function (el) { el.setAttribute("list", el.getAttribute("list") + "-" + n); });
    row.querySelector(".row-number").textContent = String(n);
  }
  function addRow(group) {
    var rows = group.querySelector(".rows");
    var n = Number(group.dataset.next || "1");
    group.dataset.next = String(n + 1);
    var row = group.querySelector("template.row-template").content.firstElementChild.cloneNode(true);
    renumber(row, n);
    row.querySelector(".remove-row").addEventListener("click", function () {
      row.remove();
      syncGroup(group);
      save();
    });
    rows.appendChild(row);
    enhance(row);
    syncGroup(group);
    return row;
  }
  function syncGroup(group) {
    var single = group.dataset.multiple !== "true";
    var count = group.querySelector(".rows").children.length;
    group.querySelector(".add-row").style.display = single && count >= 1 ? "none" : "";
  }
  function resetGroups() {
    form.querySelectorAll(".field.group").forEach(function (group) {
      group.querySelector(".rows").replaceChildren();
      group.dataset.next = "1";
      if (group.dataset.multiple !== "true") { addRow(group); } else { syncGroup(group); }
    });
  }
  form.querySelectorAll(".field.group").forEach(function (group) {
    group.querySelector(".add-row").addEventListener("click", function () {
      var row = addRow(group);
      var first = row.querySelector("input, select");
      if (first) { (first.tomselect || first).focus(); }
      save();
    });
  });

  // --- values --------------------------------------------------------------------------------------
  function periodType(value) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) { return XSD + "date"; }
    if (/^\d{4}-\d{2}$/.test(value)) { return XSD + "gYearMonth"; }
    if (/^\d{4}$/.test(value)) { return XSD + "gYear"; }
    return XSD + "string";
  }
  function number(value) { return value.replace(/\s/g, "").replace(",", "."); }
  function own(container) {
    // The fields of this record, not those of the nested records in its groups.
    return Array.prototype.filter.call(container.querySelectorAll(".field"), function (field) {
      return field.parentElement.closest(".field.group, .row") === (container.classList.contains("row") ? container : null);
    });
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
    if (widget === "number") { return [{"@value": number(value), "@type": field.dataset.datatype}]; }
    if (widget === "date") { return [{"@value": value, "@type": field.dataset.datatype}]; }
    return [{"@value": value}];
  }
  function rowIsEmpty(row) {
    return own(row).every(function (field) {
      var input = field.querySelector("input");
      if (input && input.dataset.check === "code") { return true; }  // a prefilled currency alone is no record
      return values(field).length === 0;
    });
  }
  function text(field, code) {
    var input = field && field.querySelector('[data-lang="' + code + '"]');
    return input ? input.value.trim() : "";
  }
  function nestedLabel(row, cls, code) {
    var label = form.querySelector('.field[data-path="' + RDFS_LABEL + '"]');
    var name = text(label, code) || text(label, "pl");
    if (/MonetaryAmount$/.test(cls)) { return (code === "pl" ? S.budgetOf.pl : S.budgetOf.en).replace("{name}", name); }
    var parts = [];
    row.querySelectorAll("input[data-check]").forEach(function (input) {
      if (input.value.trim()) { parts.push(input.value.trim()); }
    });
    return (name ? name + ": " : "") + parts.join(" ");
  }
  function record() {
    var node = {"@id": "_:record", "@type": [form.dataset.class]};
    var graph = [node];
    own(form).forEach(function (field) {
      if (field.dataset.widget === "group") {
        field.querySelectorAll(".rows > .row").forEach(function (row, i) {
          if (rowIsEmpty(row)) { return; }
          var id = "_:" + field.id + "-" + (i + 1);
          var nested = {"@id": id, "@type": [field.dataset.class]};
          nested[RDFS_LABEL] = ["pl", "en"].map(function (code) {
            return {"@value": nestedLabel(row, field.dataset.class, code), "@language": code};
          });
          own(row).forEach(function (sub) {
            var found = values(sub);
            if (found.length) { nested[sub.dataset.path] = found; }
          });
          graph.push(nested);
          node[field.dataset.path] = (node[field.dataset.path] || []).concat([{"@id": id}]);
        });
        return;
      }
      var found = values(field);
      if (found.length) { node[field.dataset.path] = (node[field.dataset.path] || []).concat(found); }
    });
    return {"@graph": graph};
  }

  // --- checks in the browser (the same rules as the shapes; the server checks again) ------------------
  function validDate(value) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (!m) { return false; }
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
  }
  var CHECKS = {
    period: function (v) { return validDate(v) || /^\d{4}-(0[1-9]|1[0-2])$/.test(v) || /^\d{4}$/.test(v); },
    date: validDate,
    decimal: function (v) { return /^[+-]?(\d+([.]\d*)?|[.]\d+)$/.test(number(v)); },
    integer: function (v) { return /^\d+$/.test(number(v)); },
    url: function (v) {
      try { return /^https?:$/.test(new URL(v).protocol) && !/\s/.test(v); } catch (e) { return false; }
    },
    email: function (v) { return /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v); },
    code: function (v) { return /^[A-Z0-9]{2,3}$/.test(v); }
  };
  function nameOf(field) {
    var name = field.dataset.name || "";
    return name.charAt(0).toUpperCase() + name.slice(1);
  }
  function problem(field) {
    var widget = field.dataset.widget;
    if (widget === "group") { return null; }
    var name = nameOf(field);
    if (widget === "lang-text" || widget === "lang-area") {
      return field.dataset.required && !text(field, "pl") ? S.check.requiredPl.replace("{field}", name) : null;
    }
    var input = field.querySelector("input");
    var value = input ? input.value.trim() : "";
    var check = input && input.dataset.check;
    if (value && check && !CHECKS[check](value)) {
      return S.check[check].replace("{field}", name).replace("{value}", value);
    }
    var row = field.closest(".row");
    if (field.dataset.required && values(field).length === 0 && !(row && rowIsEmpty(row))) {
      return S.check.required.replace("{field}", name);
    }
    return null;
  }

  // --- messages --------------------------------------------------------------------------------------
  function clear() {
    messages.replaceChildren();
    form.querySelectorAll(".errors").forEach(function (box) { box.replaceChildren(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) { input.removeAttribute("aria-invalid"); });
  }
  function paragraph(value, className) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = value;
    return p;
  }
  function mark(field, message, severity) {
    field.querySelector(":scope > .errors").appendChild(
      paragraph(message, severity === "Violation" ? "field-error" : "field-warning"));
    if (severity === "Violation") {
      field.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.setAttribute("aria-invalid", "true");
      });
    }
  }
  function summarise(intro, fields, loose) {
    messages.appendChild(paragraph(intro, "error"));
    var list = document.createElement("ul");
    var named = [];
    fields.forEach(function (field) {
      if (named.indexOf(field) >= 0) { return; }
      named.push(field);
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = "#" + field.id;
      a.textContent = nameOf(field);
      li.appendChild(a);
      list.appendChild(li);
    });
    loose.forEach(function (value) {
      var li = document.createElement("li");
      li.textContent = value;
      list.appendChild(li);
    });
    if (list.children.length) { messages.appendChild(list); }
    var first = form.querySelector("[aria-invalid=true]");
    if (first) { (first.tomselect || first).focus(); }
  }
  function findField(path) {
    return path ? form.querySelector('.field[data-path="' + CSS.escape(path) + '"]') : null;
  }
  function show(response) {
    var details = (response.data && response.data.details) || {};
    var results = details.results || [];
    var fields = [];
    var loose = [];
    results.forEach(function (result) {
      var message = (result.message && (result.message[lang] || result.message.pl)) || result.component;
      var field = findField(result.path);
      if (field) {
        mark(field, message, result.severity);
        if (result.severity === "Violation") { fields.push(field); }
      } else if (result.severity === "Violation") {
        loose.push(message);
      }
    });
    if (!results.length) { loose.push(T.summary(response.data) || String(response.status)); }
    summarise(response.status === 422 ? S.failed : S.notStored, fields, loose);
  }
  function checkAll() {
    var bad = [];
    form.querySelectorAll(".field").forEach(function (field) {
      var message = problem(field);
      if (message) { mark(field, message, "Violation"); bad.push(field); }
    });
    if (bad.length) { summarise(S.check.summary, bad, []); }
    return bad.length === 0;
  }

  // --- the draft, kept in this browser until it is sent or cleared -------------------------------------
  function save() {
    if (restoring) { return; }
    var data = {rows: {}, values: {}};
    form.querySelectorAll(".field.group").forEach(function (group) {
      data.rows[group.id] = group.querySelector(".rows").children.length;
    });
    form.querySelectorAll("input[id], textarea[id], select[id]").forEach(function (input) {
      if (input.classList.contains("ts-control") || /-ts-control$/.test(input.id)) { return; }
      if (input.tagName === "SELECT") {
        data.values[input.id] = Array.prototype.map.call(input.selectedOptions, function (o) { return o.value; });
      } else {
        data.values[input.id] = input.value;
      }
    });
    try { window.localStorage.setItem(DRAFT, JSON.stringify(data)); } catch (e) { return; }
    draftStatus.textContent = S.draftSaved;
  }
  function restore() {
    var data = null;
    try { data = JSON.parse(window.localStorage.getItem(DRAFT) || "null"); } catch (e) { data = null; }
    if (!data) { return; }
    restoring = true;
    Object.keys(data.rows || {}).forEach(function (id) {
      var group = document.getElementById(id);
      if (!group) { return; }
      var rows = group.querySelector(".rows");
      while (rows.children.length < data.rows[id]) { addRow(group); }
    });
    Object.keys(data.values || {}).forEach(function (id) {
      var input = document.getElementById(id);
      if (!input) { return; }
      var value = data.values[id];
      if (input.tagName === "SELECT") {
        if (input.tomselect) { input.tomselect.setValue(value, true); } else {
          Array.prototype.forEach.call(input.options, function (o) { o.selected = value.indexOf(o.value) >= 0; });
        }
      } else {
        input.value = value;
      }
    });
    restoring = false;
    draftStatus.textContent = S.draftRestored;
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  document.getElementById("draft-clear").addEventListener("click", function () {
    window.localStorage.removeItem(DRAFT);
    window.location.reload();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clear();
    if (!checkAll()) { return; }
    if (!T.get()) { messages.appendChild(paragraph(S.noToken, "error")); return; }
    messages.appendChild(paragraph(S.sending, "muted"));
    T.request("POST", "/api/submissions", JSON.stringify(record()), "application/ld+json").then(function (r) {
      clear();
      if (r.status === 201) {
        messages.appendChild(paragraph(S.created.replace("{id}", r.data.id), "ok"));
        window.localStorage.removeItem(DRAFT);
        form.reset();
        form.querySelectorAll("select.pick").forEach(function (s) { if (s.tomselect) { s.tomselect.clear(true); } });
        resetGroups();
        draftStatus.textContent = "";
        refresh();
      } else if (r.status === 401) {
        messages.appendChild(paragraph(S.unauthorized + " " + T.summary(r.data), "error"));
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
        r.status === 422 ? S.failed : (T.summary(r.data) || String(r.status)), "error"));
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
        var state = row.insertCell();
        state.textContent = S.status[s.status] || s.status;
        var waiting = (s.confirmation && s.confirmation.waitingFor) || [];
        if (s.status === "pending" && waiting.length) {
          state.appendChild(document.createElement("br"));
          state.appendChild(document.createTextNode(S.waitingFor + " " + waiting.map(function (o) {
            return (S.organisations || {})[o] || o;
          }).join(", ")));
        }
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

  window.zitkgForm = {record: record, problem: problem, values: values};  // for tests and the console
  resetGroups();
  restore();
  enhance(form);
  document.getElementById("mine-refresh").addEventListener("click", refresh);
  T.init(refresh);
  refresh();
}());
