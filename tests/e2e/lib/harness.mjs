/*
 * harness.mjs — the real binary and a real browser for the UI tests.
 *
 * The binary comes from tests/lib/app.mjs (temp dirs, ports, updatedb, serve); startApp() here
 * waits until /healthcheck/ answers 200. sqliteApp() and managedApp() wrap it for a scenario, so
 * a PostgreSQL variant only needs another environment. launchBrowser() starts Debian's chromium
 * with a fresh profile. watchPage() records everything a test must not see: a request to
 * another host, a console error, an uncaught exception, a dialog, a CSP violation, an HTTP error.
 */
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import * as tca from '../../lib/app.mjs';

export { freePort, HOST, REPO, updatedb } from '../../lib/app.mjs';
export const CHROMIUM = '/usr/bin/chromium';

export function tempDir(prefix) {
    return tca.tempDir(`e2e-${prefix}`);
}

/* Starts `serve` and resolves once /healthcheck/ answers 200 (bounded: 15 s). */
export function startApp(env, cwd) {
    return tca.startApp(env, cwd, 'healthy');
}

/*
 * A fresh seeded database and a running server on the embedded store. restart() starts the
 * server again on the same port and database; cleanup() stops whichever instance runs.
 */
export async function sqliteApp() {
    const dir = tempDir('sqlite');
    const env = tca.sqliteEnv(dir, await tca.freePort());
    tca.updatedb(env, dir);
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
        /* The dark scheme unless a scenario emulates another (page.emulateMedia). */
        colorScheme: 'dark',
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
