/*
 * harness.mjs — the real binary for the OpenAPI tests.
 *
 * startApp(env) runs `$TCA_BIN serve` in its own temp dir with only the given VTT_* settings and
 * resolves once it accepts connections (bounded: 15 s); sqliteEnv() is the embedded store with
 * a seeded database. request() is one HTTP/1.1 request on a fresh connection, with any method
 * and body, returning status, lower-case headers and the body bytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../../..');
export const BIN = process.env.TCA_BIN || path.join(REPO, 'build/TechChallengeApp');
export const HOST = '127.0.0.1';

export function tempDir(prefix) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `tca-openapi-${prefix}-`));
}

export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.unref();
        srv.on('error', reject);
        srv.listen(0, HOST, () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

function childEnv(env) {
    /* Only PATH and HOME from outside: a stray VTT_* in the caller's environment must not leak. */
    return { PATH: process.env.PATH, HOME: process.env.HOME, VTT_LOGFORMAT: 'json', ...env };
}

export function sqliteEnv(dir, port, extra = {}) {
    return { VTT_DBTYPE: 'sqlite', VTT_DBPATH: path.join(dir, 'tasks.db'), VTT_LISTENHOST: HOST,
        VTT_LISTENPORT: String(port), ...extra };
}

/* `TechChallengeApp updatedb`: recreate the table and seed the three tasks. */
export function updatedb(env, cwd) {
    if (!fs.existsSync(BIN)) {
        throw new Error(`no binary at '${BIN}': run make (or set TCA_BIN)`);
    }
    const r = spawnSync(BIN, ['updatedb'], { cwd, env: childEnv(env), encoding: 'utf8',
        timeout: 30000 });
    if (r.status !== 0) {
        throw new Error(`updatedb failed (${r.status ?? r.signal}): ${r.stdout}${r.stderr}`);
    }
}

/* Starts `serve`; resolves once the port accepts connections, rejects if the server exits. */
export async function startApp(env, cwd) {
    const proc = spawn(BIN, ['serve'], { cwd, env: childEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) =>
        resolve(code ?? signal)));
    const port = Number(env.VTT_LISTENPORT);
    const app = {
        proc, port, env, cwd, exited,
        url: `http://${HOST}:${port}`,
        get log() { return log; },
        request: (method, p, opts) => request(port, method, p, opts),
        async stop() {
            if (proc.exitCode !== null || proc.signalCode !== null) {
                return exited;
            }
            proc.kill('SIGTERM');
            const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
            const how = await exited;
            clearTimeout(timer);
            return how;
        },
    };
    const deadline = Date.now() + 15000;
    for (;;) {
        if (proc.exitCode !== null || proc.signalCode !== null) {
            throw new Error(`server exited early (${await exited}): ${log}`);
        }
        if (await canConnect(port)) {
            return app;
        }
        if (Date.now() > deadline) {
            proc.kill('SIGKILL');
            throw new Error(`server did not listen in 15 s: ${log}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

function canConnect(port) {
    return new Promise((resolve) => {
        const s = net.connect({ host: HOST, port });
        s.setTimeout(500);
        s.on('connect', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
        s.on('timeout', () => { s.destroy(); resolve(false); });
    });
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
        const req = http.request({ host: HOST, port, method, path: p, headers: hdrs, agent: false,
            timeout }, (res) => {
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
