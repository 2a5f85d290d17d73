/*
 * tap-reporter.mjs — a flat, plain TAP reporter for node:test, for prove.
 *
 * Node's own TAP reporter nests subtests and writes failure details as YAML blocks that prove's
 * parser rejects when a message holds something like a JSON log line ("No plan found"). This
 * one writes one "ok"/"not ok" line per test (named "suite > test"), TODO markers, failure
 * details as "#" comment lines, and the plan last. A suite is reported only when it fails by
 * itself (a hook threw), not because one of its tests did.
 */
export default async function* tapReporter(source) {
    const names = [];
    let n = 0;
    for await (const event of source) {
        const { type, data } = event;
        if (type === 'test:start') {
            names[data.nesting] = data.name;
            names.length = data.nesting + 1;
            continue;
        }
        if (type === 'test:diagnostic' && data.nesting === 0) {
            yield `# ${data.message}\n`;
            continue;
        }
        if (type !== 'test:pass' && type !== 'test:fail') {
            continue;
        }
        const err = data.details?.error;
        const isSuite = data.details?.type === 'suite';
        if (isSuite && (type === 'test:pass' || err?.failureType === 'subtestsFailed')) {
            continue;
        }
        n++;
        const name = [...names.slice(0, data.nesting), data.name].join(' > ')
            .replace(/#/g, '\\#');
        let line = `${type === 'test:pass' ? 'ok' : 'not ok'} ${n} - ${name}`;
        if (data.todo !== undefined) {
            line += ` # TODO ${typeof data.todo === 'string' ? data.todo : ''}`;
        } else if (data.skip !== undefined) {
            line += ` # SKIP ${typeof data.skip === 'string' ? data.skip : ''}`;
        }
        yield `${line}\n`;
        if (type === 'test:fail' && err) {
            const cause = err.cause ?? err;
            const text = String(cause?.stack ?? cause?.message ?? cause);
            for (const l of text.split('\n').slice(0, 40)) {
                yield `#   ${l}\n`;
            }
        }
    }
    yield `1..${n}\n`;
}
