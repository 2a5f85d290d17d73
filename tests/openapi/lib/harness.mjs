/*
 * harness.mjs — the real binary for the OpenAPI tests.
 *
 * The binary comes from tests/lib/app.mjs (temp dirs, ports, sqliteEnv, updatedb, serve), with
 * JSON logs unless a test says otherwise. startApp() here resolves once the server accepts
 * connections (bounded: 15 s), since some tests start it with a database it cannot reach.
 * request() is one HTTP/1.1 request on a fresh connection, with any method and body, returning
 * status, lower-case headers and the body bytes.
 *
 * With TCA_OPENAPI_PROXY=prism (prism.t sets it) every app gets Stoplight Prism's validating
 * proxy in front (`prism proxy swagger.json http://127.0.0.1:PORT`), request() goes through
 * it, and each exchange (method, path, status, Prism's sl-violations header) is appended as a
 * JSON line to $TCA_PRISM_REPORT for prism.t to judge.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
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
    if (process.env.TCA_OPENAPI_PROXY === 'prism') {
        await viaPrism(app, cwd);
    }
    return app;
}

const PRISM = path.join(tca.REPO, 'tests/openapi/node_modules/.bin/prism');
const DOC = path.join(tca.REPO, 'assets/swagger/swagger.json');

function listening(port) {
    return new Promise((resolve) => {
        const s = net.connect(port, tca.HOST, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
    });
}

const documented = Object.entries(JSON.parse(fs.readFileSync(DOC, 'utf8')).paths)
    .map(([tmpl, item]) => [new RegExp(`^${tmpl.replace(/\{[^}]+\}/g, '[^/]+')}$`), item]);

/* True when a JSON text has an object with the same key twice (JSON.parse keeps the last). */
function hasDuplicateKeys(text) {
    const stack = [];
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        const top = stack[stack.length - 1];
        if (c === '"') {
            let j = i + 1;
            while (j < text.length && text[j] !== '"') {
                j += text[j] === '\\' ? 2 : 1;
            }
            if (top?.expectKey) {
                const key = JSON.parse(text.slice(i, j + 1));
                if (top.keys.has(key)) {
                    return true;
                }
                top.keys.add(key);
                top.expectKey = false;
            }
            i = j;
        } else if (c === '{') {
            stack.push({ keys: new Set(), expectKey: true });
        } else if (c === '[') {
            stack.push(null);
        } else if (c === '}' || c === ']') {
            stack.pop();
        } else if (c === ',' && top) {
            top.expectKey = true;
        }
    }
    return false;
}

/*
 * Why a request cannot be judged through Prism, or '' when it can. Prism validates only the
 * operations the document lists (the forms with the trailing slash), answers a body that is not
 * JSON itself instead of forwarding it, re-serialises JSON bodies (a duplicated key would reach
 * the server once) and, as a Node server, refuses headers over 16 KiB itself. Such requests go
 * to the app directly and are reported as bypassed.
 */
function prismCannotForward(method, p, { body, headers = {} }) {
    const pathOnly = p.split('?')[0];
    const op = documented.find(([re]) => re.test(pathOnly));
    if (!op || !op[1][method.toLowerCase()]) {
        return 'not an operation of the document';
    }
    if (Object.entries(headers).reduce((n, [k, v]) => n + k.length + String(v).length, 0) >
        8192) {
        return 'headers larger than Prism accepts';
    }
    if (body !== undefined && body.length > 0) {
        let text = Buffer.isBuffer(body) ? body.toString('utf8') : body;
        try {
            JSON.parse(text);
        } catch {
            return 'body is not JSON';
        }
        if (hasDuplicateKeys(text)) {
            return 'body has a duplicated key';
        }
        text = '';
    }
    return '';
}

/* Puts a Prism proxy in front of app (ready within 60 s) and routes app.request through it. */
export async function viaPrism(app, cwd, upstream = `http://${tca.HOST}:${app.port}`) {
    const port = await tca.freePort();
    const log = fs.openSync(path.join(cwd, 'prism.log'), 'a');
    const proxy = spawn(PRISM, ['proxy', DOC, upstream, '--host', tca.HOST, '--port',
        String(port), '--cors', 'false', '--errors', 'false'], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const deadline = Date.now() + 60000;
    while (!(await listening(port))) {
        if (proxy.exitCode !== null || Date.now() > deadline) {
            proxy.kill('SIGKILL');
            throw new Error(`prism proxy did not start: ${fs.readFileSync(
                path.join(cwd, 'prism.log'), 'utf8').slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    const stop = app.stop;
    app.stop = async (...args) => {
        proxy.kill('SIGTERM');
        return stop.apply(app, args);
    };
    const direct = app.request;
    app.request = async (method, p, opts = {}) => {
        const why = prismCannotForward(method, p, opts);
        if (why) {
            const res = await direct(method, p, opts);
            if (process.env.TCA_PRISM_REPORT) {
                fs.appendFileSync(process.env.TCA_PRISM_REPORT, `${JSON.stringify({ method,
                    path: p, status: res.status, bypassed: why, violations: [] })}\n`);
            }
            return res;
        }
        const res = await request(port, method, p, opts);
        const violations = JSON.parse(res.headers['sl-violations'] ?? '[]');
        delete res.headers['sl-violations'];
        if (process.env.TCA_PRISM_REPORT) {
            fs.appendFileSync(process.env.TCA_PRISM_REPORT, `${JSON.stringify({ method,
                path: p, status: res.status, violations })}\n`);
        }
        return res;
    };
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
