/*
 * conformance.test.mjs — the real binary's answers against assets/swagger/swagger.json.
 *
 * Every route and every error case, on real sockets: the embedded store for the API, a locked
 * and then a broken SQLite database for 503 and 500, a PostgreSQL address where nothing listens
 * for the health check's 503, DebugEndpoint=false for /debug's 404. Each response must be
 * declared (status, headers, content type, body schema: lib/oas.mjs), and at the end every
 * response the document declares must have been produced at least once.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { freePort, sqliteEnv, startApp, tempDir, updatedb, HOST } from './lib/harness.mjs';
import { check, declaredResponses, deref, doc, DOC_PATH, METHODS, schemaErrors, seen,
    templateFor } from './lib/oas.mjs';

const TASK_KEYS = ['id', 'priority', 'title', 'complete'];

/* One request, checked against the document; asserts the status and returns the response. */
async function call(app, method, path, status, opts = {}) {
    const res = await app.request(method, path, opts);
    const problems = check(method, path, res);
    assert.deepEqual(problems, [], `${method} ${path} -> ${res.status}: ${problems.join('; ')}`);
    assert.equal(res.status, status, `${method} ${path}: ${res.text.slice(0, 200)}`);
    return res;
}

function json(res) {
    return JSON.parse(res.text);
}

function assertTaskKeys(task) {
    assert.deepEqual(Object.keys(task), TASK_KEYS, 'task keys in the documented order');
}

function tempApp(prefix, extraEnv = {}, seed = true) {
    return (async () => {
        const dir = tempDir(prefix);
        const env = sqliteEnv(dir, await freePort(), extraEnv);
        if (seed) {
            updatedb(env, dir);
        }
        const app = await startApp(env, dir);
        app.dir = dir;
        return app;
    })();
}

async function stopApp(app) {
    if (app) {
        await app.stop();
        fs.rmSync(app.dir, { recursive: true, force: true });
    }
}

describe('the document', () => {
    it('every example matches its schema', () => {
        let n = 0;
        const walk = (node, where) => {
            if (!node || typeof node !== 'object') {
                return;
            }
            if (node.schema && (node.example !== undefined || node.examples)) {
                const exs = node.examples ? Object.entries(node.examples)
                    .map(([k, e]) => [k, deref(e).value]) : [['example', node.example]];
                for (const [k, value] of exs) {
                    assert.equal(schemaErrors(node.schema, value), '', `${where}/${k}`);
                    n++;
                }
            }
            for (const [k, v] of Object.entries(node)) {
                if (k !== 'examples' && k !== 'example') {
                    walk(v, `${where}/${k}`);
                }
            }
        };
        walk(doc.paths, '#/paths');
        walk(doc.components.responses, '#/components/responses');
        walk(doc.components.parameters, '#/components/parameters');
        walk(doc.components.headers, '#/components/headers');
        const walkSchema = (s, where) => {
            if (s.example !== undefined) {
                assert.equal(schemaErrors(s, s.example), '', where);
                n++;
            }
            for (const [k, p] of Object.entries(s.properties || {})) {
                walkSchema(p, `${where}/properties/${k}`);
            }
        };
        for (const [k, s] of Object.entries(doc.components.schemas)) {
            walkSchema(s, `#/components/schemas/${k}`);
        }
        assert.ok(n > 40, `only ${n} examples checked`);
    });

    it('every operation has a unique operationId, a summary and a tag', () => {
        const ids = new Set();
        for (const [tmpl, item] of Object.entries(doc.paths)) {
            for (const m of METHODS.filter((x) => item[x])) {
                const op = item[m];
                assert.ok(op.operationId && !ids.has(op.operationId), `${m} ${tmpl} operationId`);
                ids.add(op.operationId);
                assert.ok(op.summary && op.tags?.length, `${m} ${tmpl} summary/tags`);
            }
        }
        assert.equal(ids.size, 16);
    });
});

describe('API on the embedded store', () => {
    let app;
    before(async () => { app = await tempApp('api'); });
    after(async () => { await stopApp(app); });

    it('GET /api/task/ lists the seeded tasks, with and without the slash', async () => {
        for (const p of ['/api/task/', '/api/task']) {
            const list = json(await call(app, 'GET', p, 200));
            assert.deepEqual(list.map((t) => t.title), ['1st Task', '2nd Task', '3rd Task']);
            list.forEach(assertTaskKeys);
        }
    });

    it('POST /api/task/ creates tasks from every documented request example', async () => {
        const examples = doc.paths['/api/task/'].post.requestBody.content['application/json']
            .examples;
        for (const [name, ex] of Object.entries(examples)) {
            const task = json(await call(app, 'POST', '/api/task/', 200,
                { body: JSON.stringify(ex.value) }));
            assertTaskKeys(task);
            /* Keys match case-insensitively and the last spelling in the body wins. */
            const last = (...names) => Object.entries(ex.value)
                .filter(([k, v]) => names.includes(k.toLowerCase()) && v !== null)
                .map(([, v]) => v).pop();
            assert.equal(task.title, last('title'), name);
            assert.equal(task.priority, last('priority') ?? 0, name);
            assert.equal(task.complete, last('complete', 'completed') ?? false, name);
        }
    });

    it('POST: keys case-insensitive, "completed" alias, id and unknown keys ignored, null = absent',
        async () => {
            let t = json(await call(app, 'POST', '/api/task', 200, { body:
                '{"TITLE":"Upper","Priority":-3,"COMPLETED":true,"id":1,"foo":[1,{"a":null}]}' }));
            assert.notEqual(t.id, 1);
            assert.deepEqual([t.title, t.priority, t.complete], ['Upper', -3, true]);
            t = json(await call(app, 'POST', '/api/task/', 200,
                { body: '{"title":"nulls","priority":null,"complete":null}' }));
            assert.deepEqual([t.priority, t.complete], [0, false]);
        });

    it('POST: the original UI\'s add request, byte for byte; the last spelling of a key wins',
        async () => {
            let t = json(await call(app, 'POST', '/api/task/', 200, { body:
                '{"title":"","priority":1000,"completed":false,"id":0,"Title":"buy milk"}' }));
            assert.deepEqual([t.title, t.priority, t.complete], ['buy milk', 1000, false]);
            t = json(await call(app, 'POST', '/api/task/', 200, { body:
                '{"title":"a","Title":"b","title":"c","complete":true,"completed":false}' }));
            assert.deepEqual([t.title, t.complete], ['c', false]);
        });

    it('POST: titles round-trip byte for byte, up to 1024 bytes', async () => {
        for (const title of ['50% "done" %s %n \\ ✓ é 𝄞 <b>', 'é'.repeat(512), 'x'.repeat(1024)]) {
            const t = json(await call(app, 'POST', '/api/task/', 200,
                { body: JSON.stringify({ title }) }));
            assert.equal(t.title, title);
            assert.equal(json(await call(app, 'GET', `/api/task/${t.id}/`, 200)).title, title);
        }
    });

    const badBodies = [
        ['not JSON', 'nope', /invalid JSON/],
        ['empty body', '', /JSON object/],
        ['an array', '[]', /JSON object/],
        ['no title', '{}', /title is required/],
        ['null title', '{"title":null}', /title is required/],
        ['empty title', '{"title":""}', /empty/],
        ['numeric title', '{"title":5}', /title must be a string/],
        ['string priority', '{"title":"a","priority":"1"}', /priority/],
        ['fractional priority', '{"title":"a","priority":1.5}', /priority/],
        ['priority over int32', '{"title":"a","priority":3000000000}', /priority/],
        ['numeric complete', '{"title":"a","complete":1}', /complete/],
        ['title over 1024 bytes', JSON.stringify({ title: 'é'.repeat(513) }), /1024/],
        ['a later empty title', '{"title":"a","Title":""}', /empty/],
        ['a type error in an overridden occurrence', '{"title":5,"title":"a"}', /string/],
        ['the original UI\'s empty submit', '{"title":"","priority":1000,"completed":false,"id":0}',
            /empty/],
    ];
    for (const [what, body, msg] of badBodies) {
        it(`POST with ${what} is 400`, async () => {
            const res = await call(app, 'POST', '/api/task/', 400, { body });
            assert.match(json(res).error, msg);
        });
    }

    const big = JSON.stringify({ title: 'a'.repeat(17 * 1024) });
    it('POST, PUT and PATCH with a body over 16 KiB are 413', async () => {
        await call(app, 'POST', '/api/task/', 413, { body: big });
        await call(app, 'PUT', '/api/task/1/', 413, { body: big });
        await call(app, 'PATCH', '/api/task/1', 413, { body: big });
    });

    it('GET /api/task/{id}/: 200, 400 for a non-number, 404 for no such id', async () => {
        for (const p of ['/api/task/1/', '/api/task/1']) {
            const t = json(await call(app, 'GET', p, 200));
            assertTaskKeys(t);
            assert.equal(t.id, 1);
        }
        for (const id of ['abc', '-1', '1.5', '1e3', '%20']) {
            await call(app, 'GET', `/api/task/${id}/`, 400);
        }
        for (const id of ['0', '999999', '99999999999']) {
            await call(app, 'GET', `/api/task/${id}`, 404);
        }
    });

    it('PUT /api/task/{id}/ replaces; absent priority/complete reset', async () => {
        await call(app, 'PATCH', '/api/task/2/', 200, { body: '{"priority":9,"complete":true}' });
        const t = json(await call(app, 'PUT', '/api/task/2/', 200,
            { body: '{"title":"2nd Task, renamed"}' }));
        assert.deepEqual(t, { id: 2, priority: 0, title: '2nd Task, renamed', complete: false });
        assertTaskKeys(t);
        const ex = doc.paths['/api/task/{id}/'].put.requestBody.content['application/json']
            .examples.replace.value;
        const t2 = json(await call(app, 'PUT', '/api/task/2', 200, { body: JSON.stringify(ex) }));
        assert.deepEqual([t2.title, t2.priority, t2.complete], [ex.title, ex.priority, ex.complete]);
        await call(app, 'PUT', '/api/task/2/', 400, { body: '{"priority":1}' });
        await call(app, 'PUT', '/api/task/2/', 400, { body: '{"title":"x","complete":"yes"}' });
        await call(app, 'PUT', '/api/task/abc/', 400, { body: '{"title":"x"}' });
        await call(app, 'PUT', '/api/task/999999/', 404, { body: '{"title":"x"}' });
    });

    it('PATCH /api/task/{id}/ changes only what is given', async () => {
        const before_ = json(await call(app, 'GET', '/api/task/3', 200));
        const t = json(await call(app, 'PATCH', '/api/task/3/', 200, { body: '{"complete":true}' }));
        assert.deepEqual(t, { ...before_, complete: true });
        assertTaskKeys(t);
        const t2 = json(await call(app, 'PATCH', '/api/task/3', 200,
            { body: '{"Title":"3rd","priority":-1}' }));
        assert.deepEqual(t2, { id: 3, priority: -1, title: '3rd', complete: true });
        for (const body of ['{}', '{"foo":1}', '{"title":""}', '{"priority":"x"}', 'nope']) {
            await call(app, 'PATCH', '/api/task/3/', 400, { body });
        }
        await call(app, 'PATCH', '/api/task/x/', 400, { body: '{"complete":true}' });
        await call(app, 'PATCH', '/api/task/999999', 404, { body: '{"complete":true}' });
    });

    it('DELETE /api/task/{id}/: 204, then 404; 400 for a non-number', async () => {
        const t = json(await call(app, 'POST', '/api/task/', 200, { body: '{"title":"doomed"}' }));
        await call(app, 'DELETE', `/api/task/${t.id}/`, 204);
        await call(app, 'DELETE', `/api/task/${t.id}/`, 404);
        await call(app, 'DELETE', `/api/task/${t.id}`, 404);
        await call(app, 'DELETE', '/api/task/abc', 400);
    });

    it('the list is ordered by priority, then id', async () => {
        const list = json(await call(app, 'GET', '/api/task/', 200));
        const sorted = [...list].sort((a, b) => a.priority - b.priority || a.id - b.id);
        assert.deepEqual(list, sorted);
        assert.ok(list.length > 5);
    });

    /* The methods a path declares, as the server's Allow header should list them. */
    function allowFromDoc(tmpl) {
        const ms = METHODS.filter((m) => m !== 'options' && doc.paths[tmpl][m])
            .map((m) => m.toUpperCase());
        if (ms.includes('GET')) {
            ms.push('HEAD');
        }
        return ms.sort();
    }
    const allowOf = (res) => res.headers.allow.split(',').map((s) => s.trim()).sort();
    const concretePaths = ['/api/task/', '/api/task', '/api/task/1/', '/api/task/1',
        '/healthcheck/', '/healthcheck', '/livez/', '/livez', '/debug', '/metrics'];

    it('OPTIONS on every path is 204 with the declared methods in Allow', async () => {
        for (const p of concretePaths) {
            const res = await call(app, 'OPTIONS', p, 204);
            assert.deepEqual(allowOf(res), allowFromDoc(templateFor(p)), p);
        }
    });

    it('an undeclared method is 405 with Allow, as components.responses.MethodNotAllowed',
        async () => {
            const wrong = [['PUT', '/api/task/'], ['DELETE', '/api/task'], ['PATCH', '/api/task/'],
                ['POST', '/api/task/1/'], ['POST', '/api/task/1'], ['POST', '/healthcheck/'],
                ['PUT', '/healthcheck'], ['POST', '/livez/'], ['POST', '/debug'], ['DELETE', '/metrics'],
                ['POST', '/metrics']];
            for (const [m, p] of wrong) {
                const res = await call(app, m, p, 405, m === 'DELETE' ? {} : { body: '{}' });
                assert.deepEqual(allowOf(res), allowFromDoc(templateFor(p)), `${m} ${p}`);
            }
        });

    it('request line and headers over 16 KiB are 431 on every operation that declares it',
        async () => {
            const ops = [];
            for (const [tmpl, item] of Object.entries(doc.paths)) {
                for (const m of METHODS.filter((x) => item[x]?.responses?.['431'])) {
                    ops.push([m.toUpperCase(), tmpl.replace('{id}', '1')]);
                }
            }
            assert.ok(ops.length >= 10, `${ops.length} operations declare 431`);
            const headers = { 'X-Padding': 'a'.repeat(17 * 1024) };
            for (const [m, p] of ops) {
                const body = ['POST', 'PUT', 'PATCH'].includes(m) ? '{"title":"x"}' : undefined;
                const res = await app.request(m, p, { headers, body });
                assert.deepEqual(check(m, p, res), [], `${m} ${p} -> ${res.status}`);
                assert.equal(res.status, 431, `${m} ${p}`);
            }
        });

    it('GET /healthcheck/ is 200 OK, with and without the slash', async () => {
        for (const p of ['/healthcheck/', '/healthcheck']) {
            assert.equal((await call(app, 'GET', p, 200)).text, 'OK');
        }
    });

    it('GET /livez/ is 200 OK, with and without the slash', async () => {
        for (const p of ['/livez/', '/livez']) {
            assert.equal((await call(app, 'GET', p, 200)).text, 'OK');
        }
    });

    it('GET /debug masks the secrets and reports the documented version', async () => {
        const res = await call(app, 'GET', '/debug', 200);
        const d = json(res);
        assert.deepEqual(Object.keys(d).slice(0, 5),
            ['Assets', 'DB', 'Hostname', 'Publicip', 'Timestamp'], 'the original\'s members first');
        assert.deepEqual(Object.keys(d.DB),
            ['DbUser', 'DbPassword', 'DbName', 'DbHost', 'DbPort', 'DbType']);
        assert.equal(d.DB.DbPassword, '********');
        assert.equal(d.DB.DbUser, '********');
        assert.equal(d.Config.DbPassword, '********');
        assert.ok(Number.isInteger(d.Timestamp) && Math.abs(d.Timestamp - Date.now() / 1000) < 60);
        assert.equal(d.Publicip, '');
        assert.equal(d.Store, 'sqlite');
        assert.equal(d.Version, doc.info.version, 'info.version is the binary\'s version');
    });

    it('GET /metrics is the Prometheus text format', async () => {
        const res = await app.request('GET', '/metrics');
        assert.deepEqual(check('GET', '/metrics', res), []);
        assert.equal(res.status, 200);
        assert.match(res.text, /^# (HELP|TYPE) /m);
    });

    it('the served /swagger/swagger.json is this document, byte for byte', async () => {
        const res = await app.request('GET', '/swagger/swagger.json');
        assert.equal(res.status, 200);
        assert.match(res.headers['content-type'], /^application\/json/);
        assert.ok(res.body.equals(fs.readFileSync(DOC_PATH)));
        const page = await app.request('GET', '/swagger/');
        assert.equal(page.status, 200);
        assert.match(page.headers['content-type'], /^text\/html/);
    });

    it('X-Request-Id: a sane one is echoed, anything else is replaced', async () => {
        const sane = 'abc-123.X:y_z';
        let res = await call(app, 'GET', '/api/task/', 200, { headers: { 'X-Request-Id': sane } });
        assert.equal(res.headers['x-request-id'], sane);
        for (const bad of ['has space', 'x'.repeat(65), 'semi;colon', 'ünï']) {
            res = await call(app, 'GET', '/healthcheck/', 200,
                { headers: { 'X-Request-Id': Buffer.from(bad).toString('latin1') } });
            assert.notEqual(res.headers['x-request-id'], bad);
            assert.match(res.headers['x-request-id'], /^[0-9a-f]{16}$/);
        }
    });
});

describe('DebugEndpoint = false', () => {
    let app;
    before(async () => { app = await tempApp('nodebug', { VTT_DEBUGENDPOINT: 'false' }); });
    after(async () => { await stopApp(app); });

    it('GET /debug is 404', async () => {
        assert.equal(json(await call(app, 'GET', '/debug', 404)).error, 'not found');
    });
});

describe('database faults on the embedded store', () => {
    let app;
    before(async () => { app = await tempApp('faults', { VTT_DBPOOLTIMEOUT: '200' }); });
    after(async () => { await stopApp(app); });

    it('writes while another process holds the write lock are 503', async () => {
        const py = 'import sqlite3,sys\nc=sqlite3.connect(sys.argv[1],isolation_level=None,' +
            'timeout=5)\nc.execute("BEGIN IMMEDIATE")\nprint("locked",flush=True)\n' +
            'sys.stdin.read()\nc.execute("ROLLBACK")\n';
        const locker = spawn('python3', ['-c', py, app.env.VTT_DBPATH],
            { stdio: ['pipe', 'pipe', 'inherit'] });
        try {
            await new Promise((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error('no lock in 10 s')), 10000);
                locker.stdout.on('data', () => { clearTimeout(timer); resolve(); });
                locker.on('exit', (c) => reject(new Error(`locker exited ${c}`)));
            });
            /* One write waits out SQLite's busy timeout (5 s), the others the pool's 200 ms. */
            const body = '{"title":"x","complete":true}';
            const timeout = 40000;
            const results = await Promise.all([
                call(app, 'POST', '/api/task/', 503, { body, timeout }),
                call(app, 'PUT', '/api/task/1/', 503, { body, timeout }),
                call(app, 'PATCH', '/api/task/1/', 503, { body, timeout }),
                call(app, 'DELETE', '/api/task/1/', 503, { timeout }),
            ]);
            for (const res of results) {
                assert.equal(json(res).error, 'database unavailable');
            }
        } finally {
            locker.stdin.end();
        }
        await new Promise((r) => (locker.exitCode !== null ? r() : locker.on('exit', r)));
    });

    it('every task operation on a database without its table is 500, without internals',
        async () => {
            const r = spawnSync('python3', ['-c', 'import sqlite3,sys\nc=sqlite3.connect(' +
                'sys.argv[1],timeout=5)\nc.execute("DROP TABLE tasks")\nc.commit()\n',
            app.env.VTT_DBPATH], { encoding: 'utf8', timeout: 15000 });
            assert.equal(r.status, 0, r.stderr);
            const body = '{"title":"x"}';
            for (const [m, p, b] of [['GET', '/api/task/'], ['POST', '/api/task/', body],
                ['GET', '/api/task/1/'], ['PUT', '/api/task/1/', body],
                ['PATCH', '/api/task/1/', body], ['DELETE', '/api/task/1/']]) {
                const res = await call(app, m, p, 500, b === undefined ? {} : { body: b });
                assert.equal(json(res).error, 'internal error');
            }
        });
});

describe('PostgreSQL that does not answer', () => {
    let app;
    let dir;
    let startError;
    before(async () => {
        dir = tempDir('pgdown');
        const env = { VTT_DBTYPE: 'postgres', VTT_DBHOST: HOST, VTT_DBPORT: String(await freePort()),
            VTT_DBCONNECTTIMEOUT: '1', VTT_LISTENHOST: HOST, VTT_LISTENPORT: String(await freePort()) };
        try {
            app = await startApp(env, dir);
        } catch (e) {
            startError = e;
        }
    });
    after(async () => {
        if (app) {
            await app.stop();
        }
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('the health check and every task operation are 503', async () => {
        assert.ifError(startError);
        const res = await call(app, 'GET', '/healthcheck/', 503);
        assert.equal(res.text, 'Error: db connection down');
        await call(app, 'GET', '/healthcheck', 503);
        const body = '{"title":"x"}';
        for (const [m, p, b] of [['GET', '/api/task/'], ['POST', '/api/task', body],
            ['GET', '/api/task/1'], ['PUT', '/api/task/1/', body], ['PATCH', '/api/task/1', body],
            ['DELETE', '/api/task/1/']]) {
            const r = await call(app, m, p, 503, b === undefined ? {} : { body: b });
            assert.equal(json(r).error, 'database unavailable');
        }
    });
});

describe('coverage', () => {
    it('every response the document declares was produced by the real server', () => {
        const missing = declaredResponses().filter((k) => !seen.has(k));
        assert.deepEqual(missing, [], `never produced: ${missing.join(', ')}`);
        assert.ok(seen.has('/api/task/ PUT 405'));
    });
});
