/*
 * The UI scenarios against the real binary on PostgreSQL. e2e.t runs this file under
 * tests/lib/with-pg.sh, which starts a throwaway cluster and sets TCA_TEST_DB*; each scenario
 * gets its own database (updatedb creates it), so scenarios cannot see each other's tasks.
 */
import fs from 'node:fs';
import { test } from 'node:test';

import { freePort, HOST, managedApp, tempDir, updatedb } from './lib/harness.mjs';
import { registerScenarios } from './lib/scenarios.mjs';

let databases = 0;

async function pgApp() {
    const dir = tempDir('pg');
    const env = {
        VTT_DBTYPE: 'postgres',
        VTT_DBHOST: process.env.TCA_TEST_DBHOST,
        VTT_DBPORT: process.env.TCA_TEST_DBPORT,
        VTT_DBUSER: process.env.TCA_TEST_DBUSER,
        VTT_DBPASSWORD: process.env.TCA_TEST_DBPASSWORD,
        VTT_DBNAME: `e2e_${process.pid}_${++databases}`,
        VTT_DBSSLMODE: 'disable',
        VTT_LISTENHOST: HOST,
        VTT_LISTENPORT: String(await freePort()),
    };
    updatedb(env, dir);
    return managedApp(env, dir, () => fs.rmSync(dir, { recursive: true, force: true }));
}

if (process.env.TCA_TEST_DBTYPE === 'postgres') {
    registerScenarios('postgres', pgApp);
} else {
    test('postgres scenarios need a cluster (run through tests/lib/with-pg.sh)', () => {
        throw new Error('TCA_TEST_DBTYPE is not postgres: run tests/e2e/e2e.t');
    });
}
