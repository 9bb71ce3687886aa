// The interactive API page: Swagger UI over the OpenAPI description named in data-spec.
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  if (!el || typeof SwaggerUIBundle === "undefined") { return; }
  // No validator badge: it would send the description's address to validator.swagger.io.
  window.ui = SwaggerUIBundle({url: el.dataset.spec, dom_id: "#swagger-ui", validatorUrl: null});
}());
