/*
 * observability.test.mjs — the sample Grafana dashboard and Prometheus config under
 * deploy/observability/, and docs/operations.md, against the metrics the binary exposes.
 *
 * Every dashboard query is parsed with Prometheus's own PromQL grammar (@prometheus-io/
 * lezer-promql, after Grafana's $__rate_interval is replaced by a duration) and may name only
 * the application's documented metrics; together the panels use all of them. prometheus.yml
 * must pass yamllint and scrape /metrics. Then the real binary's /metrics is read: every metric
 * the dashboard and the operations guide name must exist there, and every metric family there
 * must be explained in the guide.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parser } from '@prometheus-io/lezer-promql';
import { freePort, REPO, sqliteEnv, startApp, tempDir, updatedb } from './lib/harness.mjs';

const DASHBOARD = path.join(REPO, 'deploy/observability/grafana-dashboard.json');
const PROMETHEUS = path.join(REPO, 'deploy/observability/prometheus.yml');
const OPERATIONS = path.join(REPO, 'docs/operations.md');

/* The application's metrics the dashboard may use (histogram series by their suffixes). */
const HISTOGRAMS = ['tca_http_request_duration_seconds'];
const METRICS = [
    'tca_http_requests_total', 'tca_http_requests_in_flight', 'tca_store_operations_total',
    'tca_db_pool_connections', 'tca_db_pool_waiting', 'process_resident_memory_bytes',
    'process_open_fds', 'tca_build_info', 'process_start_time_seconds',
    ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
];

/* Grafana's own variables, replaced so that the text is plain PromQL. */
function grafanaToPromql(expr) {
    return expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');
}

/* Metric names a PromQL expression selects; throws on a syntax error. */
export function metricNames(expr) {
    const text = grafanaToPromql(expr);
    const tree = parser.parse(text);
    const names = [];
    let error;
    tree.iterate({
        enter(node) {
            if (node.type.isError && error === undefined) {
                error = node.from;
            }
            if (node.name === 'VectorSelector') {
                const id = node.node.getChild('Identifier');
                assert.ok(id, `selector without a metric name in ${expr}`);
                names.push(text.slice(id.from, id.to));
            }
        },
    });
    if (error !== undefined) {
        throw new Error(`PromQL syntax error at ${error}: ${text}`);
    }
    return names;
}

const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels || [])]);
const queries = panels.flatMap((p) => (p.targets || []).map((t) => ({ panel: p.title, expr: t.expr })));

describe('deploy/observability/grafana-dashboard.json', () => {
    it('is a dashboard: title, uid, unique panel ids, every panel placed and described', () => {
        assert.equal(typeof dashboard.title, 'string');
        assert.match(dashboard.uid, /^[a-z0-9-]{1,40}$/);
        assert.ok(Number.isInteger(dashboard.schemaVersion));
        const ids = panels.map((p) => p.id);
        assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
        for (const p of panels) {
            const g = p.gridPos;
            assert.ok(g && g.w > 0 && g.h > 0 && g.x + g.w <= 24, `gridPos of ${p.title}`);
            if (p.type !== 'row') {
                assert.ok(p.description, `${p.title} has a description`);
                assert.equal(p.datasource?.uid, '${datasource}', `${p.title} uses the variable`);
                assert.ok(p.targets?.length, `${p.title} has queries`);
            }
        }
        assert.ok(queries.length >= 15);
    });

    it('every query is valid PromQL and names only the application\'s metrics', () => {
        for (const { panel, expr } of queries) {
            const names = metricNames(expr);
            assert.ok(names.length > 0, `${panel}: ${expr} names no metric`);
            for (const n of names) {
                assert.ok(METRICS.includes(n), `${panel}: unknown metric ${n}`);
            }
            assert.match(expr, /job=~"\$job"/, `${panel}: filtered by $job`);
        }
    });

    it('the panels use every metric the application exposes', () => {
        const used = new Set(queries.flatMap(({ expr }) => metricNames(expr)));
        const unused = METRICS.filter((m) => !used.has(m));
        assert.deepEqual(unused, []);
    });

    it('the template variables query application metrics', () => {
        const vars = dashboard.templating.list;
        assert.deepEqual(vars.map((v) => v.name), ['datasource', 'job', 'instance']);
        for (const v of vars.filter((x) => x.type === 'query')) {
            const m = /^label_values\((.*), (\w+)\)$/.exec(v.definition);
            assert.ok(m, v.definition);
            assert.deepEqual(metricNames(m[1].replace(/\$job/g, 'x')), ['tca_build_info']);
        }
    });
});

describe('deploy/observability/prometheus.yml', () => {
    it('passes yamllint', () => {
        const r = spawnSync('yamllint', ['-f', 'parsable', '-d',
            '{extends: default, rules: {line-length: {max: 100}}}', PROMETHEUS],
        { encoding: 'utf8' });
        assert.equal(r.error, undefined, 'yamllint runs (deps/apt-openapi.txt)');
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it('scrapes /metrics of the application and warns that it is not public', () => {
        const r = spawnSync('/usr/bin/python3', ['-c',
            'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
            PROMETHEUS], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        const conf = JSON.parse(r.stdout);
        assert.ok(conf.scrape_configs.length >= 1);
        for (const job of conf.scrape_configs) {
            assert.match(job.job_name, /^techchallengeapp/);
            assert.equal(job.metrics_path, '/metrics');
            assert.ok(job.static_configs || job.dns_sd_configs, job.job_name);
        }
        const text = fs.readFileSync(PROMETHEUS, 'utf8');
        assert.match(text, /NOT routed through the public load balancer/);
    });
});

describe('/metrics of the real binary', () => {
    let app;
    let dir;
    before(async () => {
        dir = tempDir('metrics');
        const env = sqliteEnv(dir, await freePort());
        updatedb(env, dir);
        app = await startApp(env, dir);
    });
    after(async () => {
        await app?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it('has every metric the dashboard and docs/operations.md name, and the guide explains ' +
        'every family', async (t) => {
        await app.request('GET', '/api/task/');
        await app.request('GET', '/api/task/999');
        const res = await app.request('GET', '/metrics');
        if (res.status === 501) {
            t.todo('/metrics not implemented in this binary yet (501)');
        }
        assert.equal(res.status, 200);
        const families = new Set();
        const series = new Set();
        for (const line of res.text.split('\n')) {
            const m = /^# TYPE (\S+) \S+$/.exec(line);
            if (m) {
                families.add(m[1]);
            } else if (line && !line.startsWith('#')) {
                series.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)[0]);
            }
        }
        for (const name of METRICS) {
            assert.ok(series.has(name), `${name} in the exposition`);
        }
        const guide = fs.readFileSync(OPERATIONS, 'utf8');
        for (const f of families) {
            assert.ok(guide.includes(`\`${f}\``), `docs/operations.md explains ${f}`);
        }
    });
});
