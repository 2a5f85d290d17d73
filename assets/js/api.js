/*
 * api.js — the task API over fetch, same origin only.
 *
 * Every call resolves with plain, validated data or rejects with an ApiError. An ApiError's
 * status is the HTTP status, or 0 when the server could not be reached at all (network error,
 * timeout); `unreachable` is true for those and for 5xx answers, which the UI treats as
 * "the service is down, retry later" rather than "your request was wrong".
 */

const TIMEOUT_MS = 10000;
export const TITLE_MAX_BYTES = 1024;
export const PRIORITY_MIN = -2147483648;
export const PRIORITY_MAX = 2147483647;

export class ApiError extends Error {
    constructor(message, status) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
    }

    get unreachable() {
        return this.status === 0 || this.status >= 500;
    }
}

async function request(method, path, body) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
    init.signal = controller.signal;

    let response;
    let text;
    try {
        response = await fetch(path, init);
        text = await response.text();
    } catch (err) {
        throw new ApiError('the server cannot be reached', 0);
    } finally {
        clearTimeout(timer);
    }

    let data = null;
    if (text) {
        try {
            data = JSON.parse(text);
        } catch (err) {
            data = null;
        }
    }
    if (!response.ok) {
        const message = data && typeof data.error === 'string' && data.error
            ? data.error
            : `the server answered ${response.status}`;
        throw new ApiError(message, response.status);
    }
    return data;
}

/* A task as the UI uses it; anything else from the server is an error, not a crash later. */
function toTask(raw) {
    if (!raw || typeof raw !== 'object' || !Number.isInteger(raw.id)) {
        throw new ApiError('the server sent an unexpected answer', 502);
    }
    return {
        id: raw.id,
        priority: Number.isInteger(raw.priority) ? raw.priority : 0,
        title: typeof raw.title === 'string' ? raw.title : String(raw.title ?? ''),
        complete: raw.complete === true,
    };
}

export async function listTasks() {
    const data = await request('GET', '/api/task/');
    if (!Array.isArray(data)) {
        throw new ApiError('the server sent an unexpected answer', 502);
    }
    return data.map(toTask);
}

export async function createTask(fields) {
    return toTask(await request('POST', '/api/task/', fields));
}

export async function updateTask(id, fields) {
    return toTask(await request('PATCH', `/api/task/${encodeURIComponent(id)}/`, fields));
}

export async function deleteTask(id) {
    await request('DELETE', `/api/task/${encodeURIComponent(id)}/`);
}

/* Returns an error message for a title the server would refuse, or '' when it is fine. */
export function titleProblem(title) {
    if (title.length === 0) {
        return 'Enter a title first.';
    }
    const bytes = new TextEncoder().encode(title).length;
    if (bytes > TITLE_MAX_BYTES) {
        return `The title is too long (${bytes} bytes; at most ${TITLE_MAX_BYTES}).`;
    }
    return '';
}

/* Parses a priority field; returns an integer, or null when it is not a 32-bit integer. */
export function parsePriority(text) {
    const s = String(text).trim();
    if (!/^[+-]?\d+$/.test(s)) {
        return null;
    }
    const n = Number(s);
    return n >= PRIORITY_MIN && n <= PRIORITY_MAX ? n : null;
}
