// The API browser at /api/docs: Swagger UI (vendored from the npm package swagger-ui-dist
// 5.32.0, Apache-2.0: swagger-ui-LICENSE, swagger-ui-NOTICE) over /api/openapi.json. It is a
// static file, not an inline script, so the page's CSP (script-src 'self') allows it, and it
// loads nothing from another origin: no CDN, no validator badge.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: false,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
});
