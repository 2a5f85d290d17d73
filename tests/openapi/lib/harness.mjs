/*
 * harness.mjs — the real binary for the OpenAPI tests.
 *
 * The binary comes from tests/lib/app.mjs (temp dirs, ports, sqliteEnv, updatedb, serve), with
 * JSON logs unless a test says otherwise. startApp() here resolves once the server accepts
 * connections (bounded: 15 s), since some tests start it with a database it cannot reach.
 * request() is one HTTP/1.1 request on a fresh connection, with any method and body, returning
 * status, lower-case headers and the body bytes.
 */
import http from 'node:http';
import * as tca from '../../lib/app.mjs';

export { freePort, HOST, REPO, sqliteEnv } from '../../lib/app.mjs';

function jsonLogs(env) {
    return { VTT_LOGFORMAT: 'json', ...env };
}

export function tempDir(prefix) {
    return tca.tempDir(`openapi-${prefix}`);
}

export function updatedb(env, cwd) {
    tca.updatedb(jsonLogs(env), cwd);
}

/* Starts `serve`; resolves once the port accepts connections, rejects if the server exits. */
export async function startApp(env, cwd) {
    const app = await tca.startApp(jsonLogs(env), cwd, 'listening');
    app.request = (method, p, opts) => request(app.port, method, p, opts);
    return app;
}

/*
 * One request on a fresh connection. body: a string/Buffer sent as is (with
 * Content-Type: application/json unless headers say otherwise), or undefined for none.
 * Resolves to { status, headers, body: Buffer, text }.
 */
export function request(port, method, p, { body, headers = {}, timeout = 15000 } = {}) {
    return new Promise((resolve, reject) => {
        const hdrs = { ...headers };
        let data;
        if (body !== undefined) {
            data = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
            hdrs['Content-Type'] ??= 'application/json';
            hdrs['Content-Length'] = String(data.length);
        }
        const req = http.request({ host: tca.HOST, port, method, path: p, headers: hdrs,
            agent: false, timeout }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                const buf = Buffer.concat(chunks);
                resolve({ status: res.statusCode, headers: res.headers, body: buf,
                    text: buf.toString('utf8') });
            });
            res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${p}: timed out`)));
        req.on('error', reject);
        req.end(data);
    });
}
