/*
 * page.test.mjs — the API page at /swagger/ in headless Debian chromium, served by the real
 * binary under its real Content-Security-Policy.
 *
 * The page must render one block per operation of swagger.json, "Try it out" must reach the
 * server and show its answer, and nothing may go wrong on the way: no console error or CSP
 * violation, no uncaught exception, no request to another host, no failed or 4xx/5xx request.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { freePort, sqliteEnv, startApp, tempDir, updatedb } from './lib/harness.mjs';
import { doc, METHODS } from './lib/oas.mjs';

const CHROMIUM = '/usr/bin/chromium';

describe('the API page /swagger/ in chromium', () => {
    let app;
    let dir;
    let browser;
    let page;
    const problems = [];
    const requests = [];

    before(async () => {
        dir = tempDir('page');
        const env = sqliteEnv(dir, await freePort());
        updatedb(env, dir);
        app = await startApp(env, dir);
        browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
                '--no-first-run', '--disable-background-networking',
                '--disable-component-update', '--disable-sync'],
        });
        const context = await browser.newContext();
        page = await context.newPage();
        const origin = new URL(app.url).origin;
        page.on('console', (m) => {
            if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) {
                problems.push(`console ${m.type()}: ${m.text()}`);
            }
        });
        page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
        page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
        page.on('request', (r) => {
            requests.push(r.url());
            if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) {
                problems.push(`request to another origin: ${r.url()}`);
            }
        });
        page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
        page.on('response', (r) => {
            if (r.status() >= 400) {
                problems.push(`HTTP ${r.status()}: ${r.url()}`);
            }
        });
        /* The CSP reports violations as events in the page as well as on the console. */
        await page.addInitScript(() => {
            document.addEventListener('securitypolicyviolation', (e) => {
                console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
            });
        });
    });

    after(async () => {
        await browser?.close();
        await app?.stop();
        if (dir) {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it('renders every operation of swagger.json', async () => {
        const res = await page.goto(`${app.url}/swagger/`, { waitUntil: 'load' });
        assert.equal(res.status(), 200);
        assert.match(res.headers()['content-security-policy'], /script-src 'self';/);
        await page.waitForSelector('.opblock', { timeout: 20000 });
        const ops = [];
        for (const [tmpl, item] of Object.entries(doc.paths)) {
            for (const m of METHODS.filter((x) => item[x])) {
                ops.push(`${m.toUpperCase()} ${tmpl}`);
            }
        }
        const shown = await page.$$eval('.opblock', (els) => els.map((e) =>
            `${e.querySelector('.opblock-summary-method')?.textContent.trim()} ` +
            `${e.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`));
        assert.deepEqual([...shown].sort(), [...ops].sort());
        const title = (await page.textContent('.info .title')).replace(/\s+/g, ' ').trim();
        assert.equal(title, `${doc.info.title} ${doc.info.version} OAS 3.0`);
        const models = await page.$$eval('.models .model-container', (els) =>
            els.map((e) => e.getAttribute('data-name')));
        assert.deepEqual(models.sort(), Object.keys(doc.components.schemas).sort());
    });

    it('"Try it out" on GET /api/task/ shows the server\'s answer', async () => {
        const block = page.locator('#operations-tasks-listTasks');
        await block.locator('.opblock-summary').click();
        await block.locator('button.try-out__btn').click();
        await block.locator('button.execute').click();
        const status = block.locator('.live-responses-table tr.response .response-col_status');
        await status.first().waitFor({ timeout: 10000 });
        assert.equal((await status.first().textContent()).trim(), '200');
        const body = await block.locator('.live-responses-table .response-col_description pre')
            .first().textContent();
        assert.deepEqual(JSON.parse(body).map((t) => t.title), ['1st Task', '2nd Task', '3rd Task']);
    });

    it('a request example and a schema are shown for POST /api/task/', async () => {
        const block = page.locator('#operations-tasks-createTask');
        await block.locator('.opblock-summary').click();
        await block.locator('.body-param__example, .highlight-code').first()
            .waitFor({ timeout: 10000 });
        const text = await block.textContent();
        assert.match(text, /Write the runbook/);
        assert.match(text, /request body too large/);
        const shot = path.join(dir, 'swagger.png');
        await page.screenshot({ path: shot, fullPage: true });
        if (process.env.TCA_SCREENSHOT_DIR) {
            fs.copyFileSync(shot, path.join(process.env.TCA_SCREENSHOT_DIR, 'swagger.png'));
        }
    });

    it('nothing went wrong: no console error, CSP violation, foreign or failed request', () => {
        assert.deepEqual(problems, []);
        assert.ok(requests.some((u) => u.endsWith('/swagger/swagger.json')));
        assert.ok(requests.some((u) => u.endsWith('/swagger/swagger-ui-bundle.js')));
    });
});
