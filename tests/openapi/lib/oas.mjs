/*
 * oas.mjs — checks real HTTP responses against assets/swagger/swagger.json.
 *
 * The document's schemas are OpenAPI 3.0 Schema Objects: JSON Schema plus `nullable`,
 * `example` and the formats int32/int64. toJsonSchema() turns them into JSON Schema for ajv
 * (strict mode, every format checked, so a typo in the document fails here instead of being
 * ignored), with every "#/components/schemas/X" reference pointing into one shared schema.
 *
 * check(method, path, response) finds the operation for a concrete path (with or without its
 * trailing slash, as the server answers both), then requires: the status is declared; every
 * required declared header is present and matches its schema; the Content-Type is one of the
 * declared media types (parameters of the declared type must be present in the real one); the
 * body matches the media type's schema; a response declared without content has no body.
 * A 405 is checked against components.responses.MethodNotAllowed. Every (path, method, status)
 * seen is recorded, so a test can ask which declared ones it never produced.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { REPO } from './harness.mjs';

export const DOC_PATH = path.join(REPO, 'assets/swagger/swagger.json');
export const doc = JSON.parse(fs.readFileSync(DOC_PATH, 'utf8'));
export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SHARED_ID = 'oas-components';

/* OpenAPI Schema Object -> JSON Schema (draft-07, as ajv's default). */
export function toJsonSchema(s) {
    if (Array.isArray(s)) {
        return s.map(toJsonSchema);
    }
    if (s === null || typeof s !== 'object') {
        return s;
    }
    const out = {};
    for (const [k, v] of Object.entries(s)) {
        if (k === 'example' || k === 'nullable' || k === 'deprecated') {
            continue;
        }
        if (k === '$ref') {
            const m = /^#\/components\/schemas\/([^/]+)$/.exec(v);
            if (!m) {
                throw new Error(`unsupported $ref '${v}'`);
            }
            out.$ref = `${SHARED_ID}#/definitions/${m[1]}`;
        } else if (k === 'properties') {
            out.properties = Object.fromEntries(Object.entries(v).map(([n, p]) =>
                [n, toJsonSchema(p)]));
        } else {
            out[k] = toJsonSchema(v);
        }
    }
    if (s.nullable === true) {
        if (typeof out.type !== 'string') {
            throw new Error('nullable needs a single type');
        }
        out.type = [out.type, 'null'];
    }
    return out;
}

const INT32 = 2 ** 31;
export const ajv = new Ajv({ strict: true, allErrors: true });
ajv.addFormat('int32', { type: 'number',
    validate: (n) => Number.isInteger(n) && n >= -INT32 && n < INT32 });
ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
ajv.addFormat('date-time',
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
ajv.addSchema({
    $id: SHARED_ID,
    definitions: Object.fromEntries(Object.entries(doc.components.schemas).map(([n, s]) =>
        [n, toJsonSchema(s)])),
});

const compiled = new Map();
export function validator(schema) {
    const key = JSON.stringify(schema);
    if (!compiled.has(key)) {
        compiled.set(key, ajv.compile(toJsonSchema(schema)));
    }
    return compiled.get(key);
}

/* Errors of value against an OpenAPI schema, as one string ('' when valid). */
export function schemaErrors(schema, value) {
    const v = validator(schema);
    return v(value) ? '' : ajv.errorsText(v.errors, { dataVar: 'body' });
}

/* Follows a local $ref ("#/components/responses/X"). */
export function deref(obj) {
    let o = obj;
    for (let i = 0; o && o.$ref && i < 10; i++) {
        o = o.$ref.slice(2).split('/').reduce((a, k) => a[k.replace(/~1/g, '/')
            .replace(/~0/g, '~')], doc);
    }
    return o;
}

/* The document's path template for a concrete path, or undefined. */
export function templateFor(concrete) {
    const p = concrete.split('?')[0];
    const withSlash = p.endsWith('/') ? p : `${p}/`;
    for (const tmpl of Object.keys(doc.paths)) {
        const re = new RegExp(`^${tmpl.replace(/\/$/, '').replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
        if (re.test(p) || re.test(withSlash)) {
            return tmpl;
        }
    }
    return undefined;
}

function parseMediaType(s) {
    const [type, ...params] = String(s).split(';').map((x) => x.trim());
    return { type: type.toLowerCase(), params: params.filter(Boolean).map((x) =>
        x.toLowerCase().replace(/\s*=\s*/, '=')) };
}

/* The declared media type the real Content-Type matches, or undefined. */
export function matchMediaType(declared, actual) {
    const a = parseMediaType(actual);
    return declared.find((d) => {
        const m = parseMediaType(d);
        return m.type === a.type && m.params.every((p) => a.params.includes(p));
    });
}

export const seen = new Set(); /* "path METHOD status" */

/* Problems of a real response against the document: [] when it conforms. */
export function check(method, concretePath, res) {
    const problems = [];
    const tmpl = templateFor(concretePath);
    if (!tmpl) {
        return [`path ${concretePath} is not in the document`];
    }
    const m = method.toLowerCase();
    const op = doc.paths[tmpl][m];
    let response;
    if (!op) {
        if (res.status !== 405) {
            return [`${method} ${tmpl} is not declared, and the answer was ${res.status}, not 405`];
        }
        response = deref({ $ref: '#/components/responses/MethodNotAllowed' });
        seen.add(`${tmpl} ${method.toUpperCase()} 405`);
    } else {
        response = deref(op.responses[String(res.status)]);
        if (!response) {
            return [`${method} ${tmpl}: status ${res.status} is not declared ` +
                `(declared: ${Object.keys(op.responses).join(', ')})`];
        }
        seen.add(`${tmpl} ${method.toUpperCase()} ${res.status}`);
    }
    for (const [name, h0] of Object.entries(response.headers || {})) {
        const h = deref(h0);
        const value = res.headers[name.toLowerCase()];
        if (value === undefined) {
            if (h.required) {
                problems.push(`header ${name} missing`);
            }
            continue;
        }
        const err = schemaErrors(h.schema, value);
        if (err) {
            problems.push(`header ${name}: ${JSON.stringify(value)}: ${err}`);
        }
    }
    const ctype = res.headers['content-type'];
    if (!response.content) {
        if (res.body.length !== 0) {
            problems.push(`no body declared, got ${res.body.length} bytes`);
        }
        if (ctype !== undefined) {
            problems.push(`no body declared, got Content-Type ${ctype}`);
        }
        return problems;
    }
    const declared = Object.keys(response.content);
    const mt = ctype && matchMediaType(declared, ctype);
    if (!mt) {
        problems.push(`Content-Type ${ctype} is none of ${declared.join(', ')}`);
        return problems;
    }
    let value = res.text;
    if (parseMediaType(mt).type === 'application/json') {
        try {
            value = JSON.parse(res.text);
        } catch (e) {
            problems.push(`body is not JSON: ${e.message}`);
            return problems;
        }
    }
    const err = schemaErrors(response.content[mt].schema, value);
    if (err) {
        problems.push(`body ${res.text.slice(0, 200)}: ${err}`);
    }
    return problems;
}

/* Every declared "path METHOD status" (405 excluded: it belongs to no operation). */
export function declaredResponses() {
    const out = [];
    for (const [tmpl, item] of Object.entries(doc.paths)) {
        for (const m of METHODS) {
            for (const status of Object.keys(item[m]?.responses || {})) {
                out.push(`${tmpl} ${m.toUpperCase()} ${status}`);
            }
        }
    }
    return out;
}
