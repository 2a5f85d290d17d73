/*
 * harness.mjs — the real binary and a real browser for the UI tests.
 *
 * startApp(env) runs `$TCA_BIN serve` with the given VTT_* environment in its own temp dir and
 * waits for /healthcheck/; sqliteEnv() builds that environment for the embedded store, so a
 * PostgreSQL variant only needs another env builder. launchBrowser() starts Debian's chromium
 * with a fresh profile. watchPage() records everything a test must not see: a request to
 * another host, a console error, an uncaught exception, a dialog, a CSP violation, an HTTP error.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../../..');
export const BIN = process.env.TCA_BIN || path.join(REPO, 'build/TechChallengeApp');
export const CHROMIUM = '/usr/bin/chromium';
export const HOST = '127.0.0.1';

export function tempDir(prefix) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `tca-e2e-${prefix}-`));
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

/* The environment for the embedded store: a database file in `dir`, listening on `port`. */
export function sqliteEnv(dir, port) {
    return {
        VTT_DBTYPE: 'sqlite',
        VTT_DBPATH: path.join(dir, 'tasks.db'),
        VTT_LISTENHOST: HOST,
        VTT_LISTENPORT: String(port),
    };
}

function childEnv(env) {
    /* Only PATH and HOME from outside: a stray VTT_* in the caller's environment must not leak. */
    return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
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

export async function httpGet(url) {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, headers: res.headers, text: await res.text() };
}

/* Starts `serve` and resolves once /healthcheck/ answers 200 (bounded: 15 s). */
export async function startApp(env, cwd) {
    const proc = spawn(BIN, ['serve'], { cwd, env: childEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) =>
        resolve(code ?? signal)));
    const url = `http://${env.VTT_LISTENHOST}:${env.VTT_LISTENPORT}`;
    const app = {
        proc, url, env, cwd, exited,
        get log() { return log; },
        async kill(signal = 'SIGKILL') {
            if (proc.exitCode === null && proc.signalCode === null) {
                proc.kill(signal);
            }
            return exited;
        },
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
        try {
            if ((await httpGet(`${url}/healthcheck/`)).status === 200) {
                return app;
            }
        } catch (err) {
            /* not listening yet */
        }
        if (Date.now() > deadline) {
            await app.kill();
            throw new Error(`server did not become healthy in 15 s: ${log}`);
        }
        await new Promise((r) => setTimeout(r, 100));
    }
}

/*
 * A fresh seeded database and a running server on the embedded store. restart() starts the
 * server again on the same port and database; cleanup() stops whichever instance runs.
 */
export async function sqliteApp() {
    const dir = tempDir('sqlite');
    const env = sqliteEnv(dir, await freePort());
    updatedb(env, dir);
    return managedApp(env, dir, () => fs.rmSync(dir, { recursive: true, force: true }));
}

/* Wraps startApp for a scenario: `app.url`, `app.log`, kill(), restart(), cleanup(). */
export async function managedApp(env, cwd, removeData) {
    let current = await startApp(env, cwd);
    return {
        url: current.url,
        env,
        get log() { return current.log; },
        kill: (signal) => current.kill(signal),
        stop: () => current.stop(),
        async restart() {
            current = await startApp(env, cwd);
            return current;
        },
        async cleanup() {
            await current.stop();
            await removeData();
        },
    };
}

/* The JSON API, straight from node, to set up and to check what the UI did. */
export async function api(base, method, route, body) {
    const res = await fetch(`${base}${route}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
}

export async function launchBrowser() {
    const profile = tempDir('profile');
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1100, height: 750 },
    });
    context.setDefaultTimeout(10000);
    return {
        context,
        async close() {
            await context.close();
            fs.rmSync(profile, { recursive: true, force: true });
        },
    };
}

/*
 * Records what must not happen on a page. `expectNetworkErrors` lets a test that stops the
 * server tolerate the console errors Chromium prints for refused connections (and only those).
 */
export async function watchPage(context, page, origin) {
    const seen = { foreign: [], requests: [], consoleErrors: [], pageErrors: [], dialogs: [],
        httpErrors: [], csp: [] };
    const w = { seen, expectNetworkErrors: false };
    context.on('request', (req) => {
        const url = new URL(req.url());
        seen.requests.push(`${req.method()} ${req.url()}`);
        if (url.protocol === 'data:') {
            return;
        }
        if (url.origin !== origin) {
            seen.foreign.push(req.url());
        }
    });
    page.on('console', (msg) => {
        if (msg.type() !== 'error') {
            return;
        }
        const text = msg.text();
        if (text.startsWith('[csp] ')) {
            seen.csp.push(text);
        } else if (!(w.expectNetworkErrors && /ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|status of 50[23]/.test(text))) {
            seen.consoleErrors.push(text);
        }
    });
    page.on('pageerror', (err) => seen.pageErrors.push(String(err)));
    page.on('dialog', (dialog) => {
        seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
        dialog.dismiss().catch(() => {});
    });
    page.on('response', (res) => {
        if (res.status() >= 400 && !w.expectNetworkErrors) {
            seen.httpErrors.push(`${res.status()} ${res.request().method()} ${res.url()}`);
        }
    });
    /* CSP violations also reach the console, but say so explicitly to be sure. */
    await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => {
            console.error(`[csp] ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
        });
    });
    return w;
}

/* Polls `fn` until it returns a truthy value (bounded); returns that value. */
export async function eventually(fn, what, timeout = 10000) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        try {
            last = await fn();
            if (last) {
                return last;
            }
        } catch (err) {
            last = err;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}
