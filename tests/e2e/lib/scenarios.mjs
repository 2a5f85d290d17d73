/*
 * scenarios.mjs — the UI scenarios, written once and run against each store.
 *
 * registerScenarios(label, makeApp) defines one node:test test per scenario; makeApp() must
 * return a running server on a freshly seeded database (see harness.mjs sqliteApp) with
 * url, kill(), restart() and cleanup(). One browser serves all scenarios of a file; each
 * scenario gets its own page and its own server.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { api, eventually, launchBrowser, REPO, tempDir, watchPage } from './harness.mjs';
import { axeViolations, bannerText, contrastReport, focusIndicator, rows, statusText, targetSizes,
    titles } from './page.mjs';

const MIN_CONTRAST = 4.5;
const MIN_TARGET = 24; /* CSS px, WCAG 2.2 target size (minimum) */
const XSS = '<img src=x onerror=alert(1)>';

/* Opens the app in a new page, with the watchers on, and waits for the list to load. */
async function open(browser, app, t) {
    const page = await browser.context.newPage();
    const watch = await watchPage(browser.context, page, app.url);
    t.after(() => page.close().catch(() => {}));
    const response = await page.goto(`${app.url}/`);
    assert.equal(response.status(), 200, 'GET / is 200');
    await page.waitForSelector('#loading', { state: 'hidden' });
    return { page, watch, response };
}

/* Nothing a user should never see happened on the page. */
function assertClean(watch) {
    const s = watch.seen;
    assert.deepEqual(s.foreign, [], 'every request went to the app on 127.0.0.1');
    assert.deepEqual(s.csp, [], 'no Content-Security-Policy violation');
    assert.deepEqual(s.consoleErrors, [], 'no console error');
    assert.deepEqual(s.pageErrors, [], 'no uncaught exception');
    assert.deepEqual(s.dialogs, [], 'no dialog opened');
    assert.deepEqual(s.httpErrors, [], 'no HTTP error response');
    assert.ok(s.requests.length > 0, 'requests were observed');
    for (const r of s.requests) {
        assert.match(r, /^[A-Z]+ http:\/\/127\.0\.0\.1:\d+\//, `request stays on loopback: ${r}`);
    }
}

const countRequests = (watch, method) =>
    watch.seen.requests.filter((r) => r.startsWith(`${method} `)).length;

async function serverTasks(app) {
    const r = await api(app.url, 'GET', '/api/task/');
    assert.equal(r.status, 200);
    return r.body;
}

/* What the page shows equals what the server has, in the server's order. */
async function assertMatchesServer(page, app) {
    const shown = (await rows(page)).map(({ id, title, complete, priority }) =>
        ({ id, title, complete, priority }));
    const stored = (await serverTasks(app)).map(({ id, title, complete, priority }) =>
        ({ id, title, complete, priority }));
    assert.deepEqual(shown, stored, 'the page shows exactly the stored list, in order');
}

async function assertContrast(page, t, label) {
    const report = await contrastReport(page);
    assert.ok(report.length > 5, 'contrast measured on the visible text');
    const low = report.filter((r) => !(r.ratio >= MIN_CONTRAST));
    const pairs = new Map();
    for (const r of report) {
        const key = `${r.fg} on ${r.bg}`;
        if (!pairs.has(key)) {
            pairs.set(key, `${key}: ${r.ratio.toFixed(2)}:1 (e.g. "${r.text}")`);
        }
    }
    for (const line of pairs.values()) {
        t.diagnostic(`contrast ${label}: ${line}`);
    }
    assert.deepEqual(low, [], `every text has contrast >= ${MIN_CONTRAST}:1 (${label})`);
}

const until = (fn, what, ms) => eventually(fn, what, ms);

/* ---- the scenarios ---- */

async function crudFlow(t, app, browser) {
    const { page, watch, response } = await open(browser, app, t);
    const csp = response.headers()['content-security-policy'] || '';
    assert.match(csp, /script-src 'self'/, 'the page is served with a strict CSP');
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, 'the CSP allows no inline code');

    /* load */
    assert.deepEqual(await titles(page), ['1st Task', '2nd Task', '3rd Task'], 'seeded list');
    assert.ok(await page.locator('#empty').isHidden(), 'no empty state with tasks');
    assert.equal(await page.locator('#task-list').getAttribute('aria-busy'), 'false');
    await assertMatchesServer(page, app);

    /* add with Enter */
    const newTitle = page.getByLabel('New task', { exact: true });
    await newTitle.fill('Buy milk');
    await newTitle.press('Enter');
    await until(async () => (await rows(page)).find((r) => r.title === 'Buy milk' && r.id > 0),
        '"Buy milk" saved');
    assert.equal(await newTitle.inputValue(), '', 'the field is cleared after adding');
    assert.match(await statusText(page), /Added “Buy milk”/, 'status announces the add');

    /* add with the button, at priority -1: it goes first */
    await newTitle.fill('Call the bank');
    await page.getByLabel('Priority', { exact: true }).fill('-1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await until(async () => (await rows(page))[0].title === 'Call the bank' &&
        (await rows(page))[0].id > 0, '"Call the bank" first');
    await page.getByLabel('Priority', { exact: true }).fill('0');

    /* an empty (or blank) title is refused without a request */
    const posts = countRequests(watch, 'POST');
    await newTitle.fill('   ');
    await newTitle.press('Enter');
    await page.locator('#new-title-error').waitFor();
    assert.equal(await page.locator('#new-title-error').textContent(), 'Enter a title first.');
    assert.equal(await newTitle.getAttribute('aria-invalid'), 'true');
    assert.equal(countRequests(watch, 'POST'), posts, 'no POST for an empty title');
    assert.equal((await rows(page)).length, 5);
    await assertContrast(page, t, 'field error');
    await newTitle.fill('');

    /* toggle on, off, on: visible and stored */
    const second = page.getByRole('checkbox', { name: '2nd Task', exact: true });
    await second.check();
    await until(async () => (await api(app.url, 'GET', '/api/task/2/')).body.complete === true,
        'task 2 stored complete');
    let r2 = (await rows(page)).find((r) => r.id === 2);
    assert.ok(r2.complete && r2.struck, 'a complete task is checked and struck through');
    await second.uncheck();
    await until(async () => (await api(app.url, 'GET', '/api/task/2/')).body.complete === false,
        'task 2 stored not complete');
    r2 = (await rows(page)).find((r) => r.id === 2);
    assert.ok(!r2.complete && !r2.struck, 'an open task is neither checked nor struck');
    await page.getByRole('checkbox', { name: '1st Task', exact: true }).check();
    await until(async () => (await api(app.url, 'GET', '/api/task/1/')).body.complete === true,
        'task 1 stored complete');

    /* edit in place: Enter saves, Escape cancels, empty is refused */
    await page.getByRole('button', { name: 'Edit “3rd Task”' }).click();
    const edit3 = page.getByLabel('New title for “3rd Task”');
    assert.ok(await edit3.evaluate((el) => el === document.activeElement), 'edit field focused');
    await edit3.fill('');
    await edit3.press('Enter');
    assert.equal(await page.locator('.task-edit-error:not([hidden])').textContent(),
        'Enter a title first.');
    await edit3.fill('Third, renamed');
    await edit3.press('Enter');
    await until(async () => (await api(app.url, 'GET', '/api/task/3/')).body.title ===
        'Third, renamed', 'task 3 renamed on the server');
    assert.ok((await titles(page)).includes('Third, renamed'));
    assert.match(await focusName(page), /Edit “Third, renamed”/, 'focus back on the Edit button');
    const patches = countRequests(watch, 'PATCH');
    await page.getByRole('button', { name: 'Edit “Buy milk”' }).click();
    await page.getByLabel('New title for “Buy milk”').fill('not this');
    await page.getByLabel('New title for “Buy milk”').press('Escape');
    assert.ok((await titles(page)).includes('Buy milk'), 'Escape keeps the old title');
    assert.equal(countRequests(watch, 'PATCH'), patches, 'no request for a cancelled edit');

    /* reorder: the up button, the down button, the priority field */
    await page.getByRole('button', { name: 'Move “Buy milk” up' }).click();
    await until(async () => (await titles(page))[0] === 'Buy milk', '"Buy milk" moved first');
    await page.getByRole('button', { name: 'Move “1st Task” down' }).click();
    const prio3 = page.getByLabel('Priority of “Third, renamed”');
    await prio3.fill('5');
    await prio3.press('Enter');
    await until(async () => (await titles(page)).at(-1) === 'Third, renamed',
        '"Third, renamed" moved last');
    await until(async () => (await serverTasks(app)).map((x) => x.title).join('|') ===
        'Buy milk|Call the bank|2nd Task|1st Task|Third, renamed', 'server order after reorder');
    assert.deepEqual(await titles(page),
        ['Buy milk', 'Call the bank', '2nd Task', '1st Task', 'Third, renamed']);

    /* delete: gone here and on the server; focus goes to the next row's delete button */
    await page.getByRole('button', { name: 'Delete “2nd Task”' }).click();
    await until(async () => (await api(app.url, 'GET', '/api/task/2/')).status === 404,
        'task 2 deleted on the server');
    assert.ok(!(await titles(page)).includes('2nd Task'));
    assert.equal(await focusName(page), 'Delete “1st Task”', 'focus on the next delete button');
    assert.match(await statusText(page), /Deleted “2nd Task”/);

    /* reload: the same state */
    await until(async () => (await rows(page)).every((r) => !r.pending), 'nothing pending');
    const before = await rows(page);
    await assertMatchesServer(page, app);
    await page.reload();
    await page.waitForSelector('#loading', { state: 'hidden' });
    assert.deepEqual(await rows(page), before, 'the same list after a reload');

    await assertContrast(page, t, 'list');
    let shot = process.env.TCA_SCREENSHOT;
    if (!shot) {
        const dir = tempDir('shot');
        t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
        shot = path.join(dir, 'screenshot.png');
    }
    await page.mouse.move(0, 0);
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    await page.screenshot({ path: shot });
    t.diagnostic(`screenshot: ${path.relative(REPO, shot)}`);
    assertClean(watch);
}

function focusName(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        return el ? el.getAttribute('aria-label') || el.id || el.textContent.trim() : '';
    });
}

async function emptyState(t, app, browser) {
    for (const id of [1, 2, 3]) {
        assert.equal((await api(app.url, 'DELETE', `/api/task/${id}/`)).status, 204);
    }
    const { page, watch } = await open(browser, app, t);
    assert.ok(await page.locator('#empty').isVisible(), 'the empty state is shown');
    assert.match(await page.locator('#empty').textContent(), /Nothing to do yet/);
    assert.equal((await rows(page)).length, 0);
    assert.ok(await page.locator('#summary').isHidden());

    await page.getByLabel('New task', { exact: true }).fill('The only task');
    await page.getByLabel('New task', { exact: true }).press('Enter');
    await until(async () => (await rows(page)).find((r) => r.id > 0), 'task saved');
    assert.ok(await page.locator('#empty').isHidden(), 'the empty state goes away');
    await page.getByRole('button', { name: 'Delete “The only task”' }).click();
    await page.locator('#empty').waitFor();
    assert.equal(await focusName(page), 'new-title', 'focus back in the new task field');
    await until(async () => (await serverTasks(app)).length === 0, 'server list empty');
    assertClean(watch);
}

async function loadingState(t, app, browser) {
    const page = await browser.context.newPage();
    t.after(() => page.close().catch(() => {}));
    const watch = await watchPage(browser.context, page, app.url);
    /* Hold the first list request (it still goes to the real server) to see the loading state. */
    let release;
    const gate = new Promise((resolve) => { release = resolve; });
    await page.route(`${app.url}/api/task/`, async (route) => {
        await gate;
        await route.continue();
    });
    await page.goto(`${app.url}/`);
    await page.locator('#loading').waitFor();
    assert.match(await page.locator('#loading').textContent(), /Loading tasks/);
    assert.equal(await page.locator('#task-list').getAttribute('aria-busy'), 'true');
    assert.ok(await page.locator('#empty').isHidden(), 'no empty state while loading');
    release();
    await page.waitForSelector('#loading', { state: 'hidden' });
    assert.equal(await page.locator('#task-list').getAttribute('aria-busy'), 'false');
    assert.equal((await rows(page)).length, 3);
    await page.unroute(`${app.url}/api/task/`);
    assertClean(watch);
}

async function recovery(t, app, browser) {
    const { page, watch } = await open(browser, app, t);
    const seeded = await rows(page);
    assert.equal(seeded.length, 3);

    watch.expectNetworkErrors = true;
    await app.kill('SIGKILL');

    /* A toggle fails: rolled back, banner shown. */
    /* click, not check(): the optimistic change may already be rolled back when it returns */
    await page.getByRole('checkbox', { name: '1st Task', exact: true }).click();
    await page.locator('#banner').waitFor();
    assert.match(await bannerText(page), /Could not change “1st Task”: the server cannot be reached/);
    assert.match(await bannerText(page), /Retrying automatically/);
    await until(async () => !(await rows(page))[0].complete, 'toggle rolled back');
    assert.equal(await page.locator('#banner').getAttribute('role'), 'alert');

    /* An add fails: the row goes away and the title comes back to the field. */
    const newTitle = page.getByLabel('New task', { exact: true });
    await newTitle.fill('Written offline');
    await newTitle.press('Enter');
    await until(async () => (await newTitle.inputValue()) === 'Written offline',
        'title back in the field');
    await until(async () => (await rows(page)).length === 3, 'optimistic add rolled back');

    /* A delete fails: the row comes back. */
    await page.getByRole('button', { name: 'Delete “2nd Task”' }).click();
    await until(async () => (await titles(page)).includes('2nd Task') &&
        (await rows(page)).length === 3, 'delete rolled back');
    assert.deepEqual(await rows(page), seeded, 'everything rolled back');
    await assertContrast(page, t, 'error banner');

    /* The server comes back on the same port and database: the page recovers by itself. */
    const back = await app.restart();
    await until(async () => (await bannerText(page)) === '', 'banner gone by itself', 20000);
    assert.match(await statusText(page), /Connection restored/);
    watch.expectNetworkErrors = false;
    assert.deepEqual(await rows(page), seeded, 'the list is as stored');

    /* and works again */
    await page.getByRole('checkbox', { name: '1st Task', exact: true }).check();
    await until(async () => (await api(back.url, 'GET', '/api/task/1/')).body.complete === true,
        'toggle stored after recovery');
    await newTitle.press('Enter');
    await until(async () => (await serverTasks(back)).some((x) => x.title === 'Written offline'),
        'add stored after recovery');
    /* stored is not yet shown: the page takes the answer (and the new id) a moment later */
    await until(async () => (await rows(page)).every((r) => !r.pending && r.id > 0),
        'the page has the answers');
    await assertMatchesServer(page, back);
    await back.stop();
    watch.expectNetworkErrors = true; /* the page may poll the stopped server from here on */
    const s = watch.seen;
    assert.deepEqual(s.foreign, [], 'every request went to 127.0.0.1');
    assert.deepEqual(s.pageErrors, [], 'no uncaught exception');
    assert.deepEqual(s.dialogs, []);
    assert.deepEqual(s.csp, []);
    assert.deepEqual(s.consoleErrors, [], 'no console error besides refused connections');
}

async function xssTitle(t, app, browser) {
    const made = await api(app.url, 'POST', '/api/task/',
        { title: '<script>alert(2)</script> & "quotes" %s %"', priority: 1, complete: false });
    assert.equal(made.status, 200);
    const { page, watch } = await open(browser, app, t);
    const field = page.getByLabel('New task', { exact: true });
    await field.fill(XSS);
    await field.press('Enter');
    await until(async () => (await rows(page)).find((r) => r.title === XSS && r.id > 0),
        'XSS title saved');
    await page.waitForTimeout(300); /* time for an injected onerror to fire, if any */
    await page.reload();
    await page.waitForSelector('#loading', { state: 'hidden' });
    await page.waitForTimeout(300);
    const shown = await titles(page);
    assert.ok(shown.includes(XSS), 'the title is shown as text');
    assert.ok(shown.includes('<script>alert(2)</script> & "quotes" %s %"'));
    assert.equal(await page.locator('#task-list img, #task-list script').count(), 0,
        'no element was created from a title');
    assert.equal(await page.getByRole('button', { name: `Delete “${XSS}”` }).count(), 1,
        'the accessible name carries the raw title');
    assert.ok((await serverTasks(app)).some((x) => x.title === XSS), 'stored byte for byte');
    assertClean(watch);
}

async function keyboardOnly(t, app, browser) {
    const { page, watch } = await open(browser, app, t);
    const steps = [];
    /* Tab until `want` is focused; every stop on the way must show a focus indicator. */
    const tabTo = async (want, max = 60) => {
        for (let i = 0; i < max; i++) {
            await page.keyboard.press('Tab');
            const f = await focusIndicator(page);
            if (f) {
                steps.push(f.name);
                assert.ok(f.outline && f.focusVisible, `visible focus on ${f.tag} "${f.name}"`);
                if (f.name === want) {
                    return;
                }
            }
        }
        assert.fail(`"${want}" not reached with Tab (saw: ${steps.slice(-12).join(' | ')})`);
    };

    await tabTo('new-title');
    await page.keyboard.press('Enter');
    assert.ok(await page.locator('#new-title-error').isVisible(), 'Enter on empty is refused');
    await page.keyboard.type('Typed task');
    await page.keyboard.press('Enter');
    await until(async () => (await rows(page)).find((r) => r.title === 'Typed task' && r.id > 0),
        'added with the keyboard');
    assert.equal(await focusName(page), 'new-title', 'focus stays in the field after adding');

    await tabTo('Edit “Typed task”');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('Typed and edited');
    await page.keyboard.press('Enter');
    await until(async () => (await titles(page)).includes('Typed and edited'), 'edited');
    assert.equal(await focusName(page), 'Edit “Typed and edited”');
    await page.keyboard.press('Enter');
    await page.keyboard.type(' no');
    await page.keyboard.press('Escape');
    assert.ok((await titles(page)).includes('Typed and edited'), 'Escape cancels');
    assert.equal(await focusName(page), 'Edit “Typed and edited”');

    /* Shift+Tab back to the checkbox of the same row and toggle it with Space. */
    const onCheckbox = () =>
        page.evaluate(() => document.activeElement.classList.contains('task-done'));
    for (let i = 0; i < 6 && !(await onCheckbox()); i++) {
        await page.keyboard.press('Shift+Tab');
    }
    assert.ok(await onCheckbox(), 'reached the checkbox with Shift+Tab');
    await page.keyboard.press('Space');
    await until(async () => (await rows(page)).find((r) => r.title === 'Typed and edited').complete,
        'toggled with Space');

    await tabTo('Move “Typed and edited” up');
    await page.keyboard.press('Enter');
    await until(async () => (await titles(page))[0] === 'Typed and edited', 'moved up');
    assert.equal(await focusName(page), 'Move “Typed and edited” up', 'focus follows the row');

    await tabTo('Delete “Typed and edited”');
    await page.keyboard.press('Enter');
    await until(async () => !(await titles(page)).includes('Typed and edited'), 'deleted');
    assert.equal(await focusName(page), 'Delete “1st Task”', 'focus moves to the next row');
    await until(async () => (await serverTasks(app)).length === 3, 'server has the seeds only');
    t.diagnostic(`keyboard focus path: ${steps.join(' → ')}`);
    assertClean(watch);
}

async function narrowScreen(t, app, browser) {
    const long = 'x'.repeat(1024);
    assert.equal((await api(app.url, 'POST', '/api/task/', { title: long, priority: 0 })).status,
        200);
    await api(app.url, 'POST', '/api/task/', { title: 'A fairly long title with words that has to wrap over several lines on a small phone', priority: 0 });
    const { page, watch } = await open(browser, app, t);
    await page.setViewportSize({ width: 320, height: 640 });
    const overflow = () => page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
        widest: Math.max(...[...document.querySelectorAll('body *')]
            .filter((e) => !e.closest('.vh'))
            .map((e) => e.getBoundingClientRect().right)),
    }));
    let o = await overflow();
    assert.ok(o.scroll <= 320 && o.widest <= 320.5, `no horizontal scroll at 320 px (${JSON.stringify(o)})`);
    await page.getByRole('button', { name: `Edit “${long}”` }).click();
    o = await overflow();
    assert.ok(o.scroll <= 320 && o.widest <= 320.5, `editing fits too (${JSON.stringify(o)})`);
    await page.keyboard.press('Escape');

    /* the UI counts bytes, not characters: 512 × 'é' is 1024 bytes, one more is too many */
    const field = page.getByLabel('New task', { exact: true });
    const posts = countRequests(watch, 'POST');
    await field.fill('é'.repeat(513));
    await field.press('Enter');
    assert.match(await page.locator('#new-title-error').textContent(), /too long \(1026 bytes/);
    assert.equal(countRequests(watch, 'POST'), posts, 'no POST for a too long title');
    await field.fill('é'.repeat(512));
    await field.press('Enter');
    await until(async () => (await serverTasks(app)).some((x) => x.title === 'é'.repeat(512)),
        '1024-byte title stored');
    o = await overflow();
    assert.ok(o.scroll <= 320, 'still no horizontal scroll');
    await assertContrast(page, t, '320 px');
    assertClean(watch);
}

async function editorEscape(t, app, browser) {
    const { page, watch } = await open(browser, app, t);
    const patches = countRequests(watch, 'PATCH');
    /* Esc from the field, from Save and from Cancel: the edit is dropped, focus back on Edit. */
    for (const [where, tabs] of [['the field', 0], ['Save', 1], ['Cancel', 2]]) {
        await page.getByRole('button', { name: 'Edit “2nd Task”' }).click();
        const field = page.getByLabel('New title for “2nd Task”');
        await field.fill(`changed, then Esc on ${where}`);
        for (let i = 0; i < tabs; i++) {
            await page.keyboard.press('Tab');
        }
        assert.equal(await focusName(page), tabs ? where : await field.getAttribute('id'),
            `focus on ${where}`);
        await page.keyboard.press('Escape');
        assert.ok(await field.isHidden(), `Esc on ${where} closes the editor`);
        assert.equal(await focusName(page), 'Edit “2nd Task”',
            `after Esc on ${where}, focus is on the Edit button`);
    }
    assert.ok((await titles(page)).includes('2nd Task'), 'the title is unchanged');
    assert.equal(countRequests(watch, 'PATCH'), patches, 'no request for a cancelled edit');
    assert.equal((await api(app.url, 'GET', '/api/task/2/')).body.title, '2nd Task');
    assertClean(watch);
}

async function retryNowFocus(t, app, browser) {
    const { page, watch } = await open(browser, app, t);
    watch.expectNetworkErrors = true;
    await app.kill('SIGKILL');
    await page.getByRole('checkbox', { name: '1st Task', exact: true }).click();
    const retry = page.getByRole('button', { name: 'Retry now' });
    await retry.waitFor();
    await retry.focus();
    const lists = () => watch.seen.requests.filter((r) => /^GET .*\/api\/task\/$/.test(r)).length;

    /* Retry now while the server is still down: the banner stays, and so does the focus. */
    const before = lists();
    await page.keyboard.press('Enter');
    await until(async () => lists() > before, 'Retry now sent a request');
    await until(async () => /Next try in/.test(await bannerText(page)), 'the next try is planned');
    assert.equal(await focusName(page), 'banner-retry-now', 'focus stays on Retry now');

    /* Retry now once the server is back: the banner goes, focus goes to the new-task field. */
    const back = await app.restart();
    await page.keyboard.press('Enter');
    await until(async () => (await bannerText(page)) === '', 'banner gone after Retry now');
    assert.equal(await focusName(page), 'new-title', 'focus in the new-task field, not the body');
    assert.match(await statusText(page), /Connection restored/);
    watch.expectNetworkErrors = false;
    await page.keyboard.type('Typed after recovery');
    await page.keyboard.press('Enter');
    await until(async () => (await serverTasks(back)).some((x) => x.title ===
        'Typed after recovery'), 'typing goes on where the focus went');
    await back.stop();
    watch.expectNetworkErrors = true;
    assert.deepEqual(watch.seen.pageErrors, [], 'no uncaught exception');
    assert.deepEqual(watch.seen.csp, []);
}

async function touchTargets(t, app, browser) {
    const { page, watch } = await open(browser, app, t);
    await page.setViewportSize({ width: 360, height: 740 });
    const check = async (what) => {
        const sizes = await targetSizes(page);
        assert.ok(sizes.length >= 8, `controls measured (${what}: ${sizes.length})`);
        const smallest = sizes.reduce((a, b) =>
            (Math.min(b.width, b.height) < Math.min(a.width, a.height) ? b : a));
        t.diagnostic(`targets at 360 px, ${what}: ${sizes.length}, smallest "${smallest.name}" ` +
            `${smallest.width.toFixed(1)} x ${smallest.height.toFixed(1)} px`);
        const small = sizes.filter((x) => x.width < MIN_TARGET || x.height < MIN_TARGET);
        assert.deepEqual(small, [], `every control is at least ${MIN_TARGET} x ${MIN_TARGET} px ` +
            `at 360 px (${what})`);
    };
    await check('list');
    await page.getByRole('button', { name: 'Edit “1st Task”' }).click();
    await check('editing');
    await page.keyboard.press('Escape');
    const prio = page.getByLabel('Priority of “2nd Task”');
    await prio.fill('99999999999');
    await prio.press('Enter');
    await page.locator('#banner').waitFor();
    await check('banner');
    assertClean(watch);
}

/* Shows what the contrast and axe checks must see: a done task, a field error, a banner. */
async function busyPage(browser, app, t) {
    assert.equal((await api(app.url, 'PATCH', '/api/task/1/', { complete: true })).status, 200);
    const opened = await open(browser, app, t);
    const { page } = opened;
    await page.getByLabel('New task', { exact: true }).press('Enter');
    await page.locator('#new-title-error').waitFor();
    const prio = page.getByLabel('Priority of “2nd Task”');
    await prio.fill('99999999999');
    await prio.press('Enter');
    await page.locator('#banner').waitFor();
    return opened;
}

async function colourSchemes(t, app, browser) {
    const { page, watch } = await busyPage(browser, app, t);
    const description = await page.locator('meta[name="description"]').getAttribute('content');
    assert.ok(description && description.length > 20, `a meta description: "${description}"`);
    const want = { light: 'rgb(245, 246, 248)', dark: 'rgb(18, 20, 23)' };
    for (const scheme of ['light', 'dark']) {
        await page.emulateMedia({ colorScheme: scheme });
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.equal(bg, want[scheme], `the ${scheme} scheme when the system prefers it`);
        await assertContrast(page, t, scheme);
        await page.getByRole('button', { name: 'Edit “3rd Task”' }).click();
        await assertContrast(page, t, `${scheme}, editing`);
        const violations = await axeViolations(page);
        assert.deepEqual(violations, [], `axe: no violation on / (${scheme}, editing, banner)`);
        await page.keyboard.press('Escape');
    }
    assertClean(watch);
}

async function axeSwagger(t, app, browser) {
    const page = await browser.context.newPage();
    t.after(() => page.close().catch(() => {}));
    const watch = await watchPage(browser.context, page, app.url);
    const res = await page.goto(`${app.url}/swagger/`, { timeout: 30000 });
    assert.equal(res.status(), 200);
    await page.waitForSelector('.opblock', { timeout: 20000 });
    const mains = await page.evaluate(() => document.querySelectorAll('main, [role="main"]').length);
    assert.equal(mains, 1, 'the API page has one main landmark');
    assert.deepEqual(await axeViolations(page), [], 'axe: no violation on /swagger/');
    await page.locator('.opblock-summary-control').first().click();
    await page.locator('.opblock-body').first().waitFor();
    assert.deepEqual(await axeViolations(page), [], 'axe: none with an operation open either');
    assertClean(watch);
}

export function registerScenarios(label, makeApp) {
    let browser;
    test.before(async () => { browser = await launchBrowser(); });
    test.after(async () => { await browser?.close(); });

    const scenario = (name, fn) => test(`${label}: ${name}`, { timeout: 90000 }, async (t) => {
        const app = await makeApp();
        t.after(() => app.cleanup());
        try {
            await fn(t, app, browser);
        } catch (err) {
            for (const line of app.log.split('\n').slice(-40)) {
                t.diagnostic(`server: ${line}`);
            }
            throw err;
        }
    });
    scenario('load, add, toggle, edit, reorder, delete, reload', crudFlow);
    scenario('empty state', emptyState);
    scenario('loading state', loadingState);
    scenario('API down: banner, rollback, recovers by itself', recovery);
    scenario('XSS title shown as text', xssTitle);
    scenario('keyboard only', keyboardOnly);
    scenario('320 px wide, long titles, byte limit', narrowScreen);
    scenario('Esc cancels an edit from its field, Save and Cancel', editorEscape);
    scenario('Retry now: focus stays, then goes to the new-task field', retryNowFocus);
    scenario('touch targets at least 24 x 24 px at 360 px', touchTargets);
    scenario('light and dark schemes: contrast and axe', colourSchemes);
    scenario('the API page: one main landmark, axe', axeSwagger);
}
