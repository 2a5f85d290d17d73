/*
 * api.js — starts Swagger UI on swagger.json. A file of its own because the Content-Security-Policy
 * allows no inline script. validatorUrl: null stops Swagger UI from loading a badge from
 * another host; "Try it out" sends requests to this same server only (servers: "/").
 */
(function () {
    'use strict';
    window.addEventListener('DOMContentLoaded', function () {
        window.ui = window.SwaggerUIBundle({
            url: 'swagger.json',
            dom_id: '#swagger-ui',
            deepLinking: true,
            validatorUrl: null,
            docExpansion: 'list',
            defaultModelsExpandDepth: 1,
            displayOperationId: true,
            displayRequestDuration: true,
            showExtensions: false,
            tryItOutEnabled: false,
            presets: [window.SwaggerUIBundle.presets.apis],
        });
    });
})();
