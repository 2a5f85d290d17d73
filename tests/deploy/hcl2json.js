#!/usr/bin/env node
// hcl2json.js FILE... — print {"FILE": <HCL as JSON>, ...} using @cdktf/hcl2json (offline, WASM).
// Expressions stay as "${...}" strings; tests/deploy/checklist.t reads the result.
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require('@cdktf/hcl2json');

async function main(files) {
    const out = {};
    for (const f of files) {
        out[path.basename(f)] = await parse(path.basename(f), fs.readFileSync(f, 'utf8'));
    }
    process.stdout.write(JSON.stringify(out));
}

main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`hcl2json: ${err && err.message ? err.message : err}\n`);
    process.exit(1);
});
