/*
 * api.js — starts Swagger UI on swagger.json. A file of its own because the Content-Security-Policy
 * allows no inline script. validatorUrl: null stops Swagger UI from loading a badge from
 * another host; "Try it out" sends requests to this same server only (servers: "/").
 *
 * deepLinking is off: it puts links inside the buttons that open an operation (nested
 * interactive controls). What Swagger UI renders is then corrected for assistive technology
 * (ariaFixes), each time it renders: Swagger UI's <main> around the operations is the page's
 * one main landmark, and the two blocks it puts before it become named regions, so no content
 * is outside a landmark; its title is a level-2 heading under our h1 (index.html), so headings
 * go down one level at a time; the server and example lists get names.
 */
(function () {
    'use strict';

    function ariaFixes(root) {
        var regions = [['.information-container', 'About this API'], ['.scheme-container', 'Server']];
        regions.forEach(function (r) {
            root.querySelectorAll(r[0] + ':not([role])').forEach(function (el) {
                el.setAttribute('role', 'region');
                el.setAttribute('aria-label', r[1]);
            });
        });
        root.querySelectorAll('.info h1.title').forEach(function (el) {
            el.setAttribute('aria-level', '2');
        });
        var selects = [['select#servers', 'Server'], ['select.examples-select-element', 'Example']];
        selects.forEach(function (s) {
            root.querySelectorAll(s[0] + ':not([aria-label])').forEach(function (el) {
                el.setAttribute('aria-label', s[1]);
            });
        });
    }

    window.addEventListener('DOMContentLoaded', function () {
        var root = document.getElementById('swagger-ui');
        new MutationObserver(function () {
            ariaFixes(root);
        }).observe(root, { childList: true, subtree: true });
        window.ui = window.SwaggerUIBundle({
            url: 'swagger.json',
            dom_id: '#swagger-ui',
            deepLinking: false,
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
