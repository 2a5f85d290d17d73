/*
 * app.mjs — the real binary under test, for the node suites (tests/e2e, tests/openapi).
 *
 * BIN is $TCA_BIN or build/TechChallengeApp. The child sees only PATH, HOME and the VTT_*
 * settings it is given: a stray VTT_* in the caller's environment never leaks in.
 *
 *   tempDir(name)          a fresh directory tca-<name>-XXXXXX; the caller removes it.
 *   freePort()             a port on 127.0.0.1 that was free a moment ago.
 *   sqliteEnv(dir, port)   the settings for the embedded store, database in `dir`.
 *   updatedb(env, cwd)     recreates the table and seeds the three tasks; throws with the
 *                          binary's output if it fails.
 *   startApp(env, cwd, until)
 *                          runs `serve` and resolves once it is 'healthy' (GET /healthcheck/
 *                          answers 200) or 'listening' (the port accepts connections), both
 *                          bounded at 15 s. Rejects, with the server's output, if it exits first
 *                          or is not ready in time (it is killed then). The resolved app has
 *                          url, port, env, cwd, proc, log (stdout+stderr so far), exited (a
 *                          promise of the exit code or signal), kill(signal = SIGKILL) and
 *                          stop() (SIGTERM, SIGKILL after 10 s); both resolve once it exited.
 *                          The caller stops it.
 *
 * Node built-ins only: it is imported from suites that each have their own node_modules.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = process.env.TCA_BIN || path.join(REPO, 'build/TechChallengeApp');
export const HOST = '127.0.0.1';

export function tempDir(name) {
    return fs.mkdtempSync(path.join(os.tmpdir(), `tca-${name}-`));
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

export function sqliteEnv(dir, port, extra = {}) {
    return { VTT_DBTYPE: 'sqlite', VTT_DBPATH: path.join(dir, 'tasks.db'), VTT_LISTENHOST: HOST,
        VTT_LISTENPORT: String(port), ...extra };
}

function childEnv(env) {
    return { PATH: process.env.PATH, HOME: process.env.HOME, ...env };
}

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
 * When a started server counts as ready. 'listening' is for servers whose health check may
 * fail on purpose (e.g. an unreachable database).
 */
const READY = {
    healthy: {
        check: async (app) => (await httpGet(`${app.url}/healthcheck/`)).status === 200,
        pause: 100,
        failure: 'did not become healthy',
    },
    listening: {
        check: (app) => canConnect(app.port),
        pause: 50,
        failure: 'did not listen',
    },
};

export async function startApp(env, cwd, until) {
    const ready = READY[until];
    if (!ready) {
        throw new Error(`startApp: unknown readiness '${until}'`);
    }
    const proc = spawn(BIN, ['serve'], { cwd, env: childEnv(env),
        stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) =>
        resolve(code ?? signal)));
    const running = () => proc.exitCode === null && proc.signalCode === null;
    const port = Number(env.VTT_LISTENPORT);
    const app = {
        proc, port, env, cwd, exited,
        url: `http://${env.VTT_LISTENHOST}:${port}`,
        get log() { return log; },
        async kill(signal = 'SIGKILL') {
            if (running()) {
                proc.kill(signal);
            }
            return exited;
        },
        async stop() {
            if (!running()) {
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
        if (!running()) {
            throw new Error(`server exited early (${await exited}): ${log}`);
        }
        try {
            if (await ready.check(app)) {
                return app;
            }
        } catch (err) {
            /* not listening yet */
        }
        if (Date.now() > deadline) {
            await app.kill();
            throw new Error(`server ${ready.failure} in 15 s: ${log}`);
        }
        await new Promise((r) => setTimeout(r, ready.pause));
    }
}
