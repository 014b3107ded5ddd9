// Starts Swagger UI or ReDoc on /docs and /redoc (routes/docs.py): a file, so no inline script.
(function () {
  "use strict";
  var el = document.getElementById("viewer");
  var spec = el.getAttribute("data-spec");
  if (el.getAttribute("data-viewer") === "swagger") {
    window.SwaggerUIBundle({
      url: spec,
      dom_id: "#viewer",
      layout: "BaseLayout",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
    });
  } else {
    window.Redoc.init(spec, {}, el);
  }
})();
