/*
 * app.js — the to-do list: state, rendering and user actions.
 *
 * State is a Map of tasks keyed by a stable key ('id-7', or 'tmp-3' for a task being created).
 * Every change is optimistic: the list changes at once, the request follows, and a failure puts
 * the task back as it was and shows the error banner. When the server is unreachable (network
 * error or 5xx) the banner stays and the list is fetched again with exponential backoff until it
 * answers; then the banner goes away by itself. Titles only ever reach the page as textContent
 * or attribute values, never as markup.
 */
import {
    createTask,
    deleteTask,
    listTasks,
    parsePriority,
    PRIORITY_MAX,
    PRIORITY_MIN,
    titleProblem,
    updateTask,
} from './api.js';

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 8000;
const REFRESH_MS = 15000;

const $ = (id) => document.getElementById(id);
const ui = {
    addForm: $('add-form'),
    newTitle: $('new-title'),
    newPriority: $('new-priority'),
    newTitleError: $('new-title-error'),
    status: $('status'),
    banner: $('banner'),
    bannerMessage: $('banner-message'),
    bannerRetry: $('banner-retry'),
    bannerRetryNow: $('banner-retry-now'),
    bannerDismiss: $('banner-dismiss'),
    loading: $('loading'),
    empty: $('empty'),
    list: $('task-list'),
    summary: $('summary'),
    template: $('task-template'),
};

const state = {
    tasks: new Map(),
    loaded: false,
    editingKey: null,
    mutations: 0, /* bumped by every local change, so a stale refresh is not applied */
    inFlight: 0,
    tmpSeq: 0,
    offline: false,
    retryDelay: RETRY_FIRST_MS,
    retryTimer: 0,
    retryAt: 0,
    countdownTimer: 0,
};

const rows = new Map(); /* key -> row elements */
let rowSeq = 0;

const quote = (title) => `“${title}”`;
const keyOf = (id) => `id-${id}`;

function compareTasks(a, b) {
    if (a.priority !== b.priority) {
        return a.priority < b.priority ? -1 : 1;
    }
    if (a.id === null || b.id === null) {
        /* Tasks still being created go last within their priority, in the order typed. */
        if (a.id === null && b.id === null) {
            return a.tmpSeq - b.tmpSeq;
        }
        return a.id === null ? 1 : -1;
    }
    return a.id - b.id;
}

function sortedTasks() {
    return [...state.tasks.values()].sort(compareTasks);
}

/* ---- announcements and the banner ---- */

function announce(message) {
    ui.status.textContent = message;
}

function showBanner(message, retrying) {
    const focused = document.activeElement;
    ui.bannerMessage.textContent = message;
    ui.bannerRetryNow.hidden = !retrying;
    ui.bannerDismiss.hidden = retrying;
    /* The button that had the focus may just have been hidden: the other one takes it. */
    if (focused === ui.bannerRetryNow && !retrying) {
        ui.bannerDismiss.focus();
    } else if (focused === ui.bannerDismiss && retrying) {
        ui.bannerRetryNow.focus();
    }
    if (!retrying) {
        ui.bannerRetry.textContent = '';
    }
    ui.banner.hidden = false;
}

function hideBanner() {
    /* Hiding the banner would drop the focus of one of its buttons on the page body: it goes
     * to the new-task field instead, where the user most likely goes on. */
    const hadFocus = ui.banner.contains(document.activeElement);
    ui.banner.hidden = true;
    if (hadFocus) {
        ui.newTitle.focus();
    }
    ui.bannerMessage.textContent = '';
    ui.bannerRetry.textContent = '';
}

function updateCountdown() {
    const seconds = Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000));
    ui.bannerRetry.textContent = seconds > 0 ? `Next try in ${seconds} s.` : 'Trying again…';
}

/* ---- recovery when the server is down ---- */

function enterRecovery(message) {
    state.offline = true;
    showBanner(`${message} Retrying automatically.`, true);
    if (!state.retryTimer) {
        scheduleRetry();
    }
}

function scheduleRetry() {
    clearTimeout(state.retryTimer);
    clearInterval(state.countdownTimer);
    const delay = state.retryDelay;
    state.retryDelay = Math.min(delay * 2, RETRY_MAX_MS);
    state.retryAt = Date.now() + delay;
    updateCountdown();
    state.countdownTimer = setInterval(updateCountdown, 1000);
    state.retryTimer = setTimeout(attemptRecovery, delay);
}

async function attemptRecovery() {
    clearTimeout(state.retryTimer);
    clearInterval(state.countdownTimer);
    state.retryTimer = 0;
    state.retryAt = Date.now();
    updateCountdown();
    try {
        const tasks = await listTasks();
        applyList(tasks);
        state.offline = false;
        state.retryDelay = RETRY_FIRST_MS;
        hideBanner();
        announce('Connection restored. The list is up to date.');
    } catch (err) {
        if (err.unreachable) {
            scheduleRetry();
        } else {
            state.offline = false;
            state.retryDelay = RETRY_FIRST_MS;
            showBanner(`Could not load the tasks: ${err.message}.`, false);
        }
    }
}

function failed(err, what) {
    if (err.unreachable) {
        enterRecovery(`${what}: ${err.message}. The change was undone.`);
        return;
    }
    showBanner(`${what}: ${err.message}.`, false);
    refresh();
}

function succeeded() {
    /* A success after a client-side error clears it; recovery clears its own banner. */
    if (!state.offline && !ui.banner.hidden) {
        hideBanner();
    }
}

/* ---- loading the list ---- */

function applyList(tasks) {
    const fresh = new Map();
    for (const task of tasks) {
        fresh.set(keyOf(task.id), { ...task, key: keyOf(task.id) });
    }
    for (const task of state.tasks.values()) {
        if (task.id === null) {
            fresh.set(task.key, task);
        }
    }
    state.tasks = fresh;
    if (state.editingKey && !fresh.has(state.editingKey)) {
        state.editingKey = null;
    }
    state.loaded = true;
    render();
}

/* Fetches the list; a result that raced with a local change is dropped (the change wins). */
async function refresh() {
    if (state.offline) {
        return;
    }
    const mark = state.mutations;
    try {
        const tasks = await listTasks();
        if (state.inFlight === 0 && state.mutations === mark) {
            applyList(tasks);
        }
    } catch (err) {
        if (err.unreachable) {
            const what = state.loaded ? 'Lost contact with the server' : 'Could not load the tasks';
            enterRecovery(`${what}: ${err.message}.`);
        } else {
            showBanner(`Could not load the tasks: ${err.message}.`, false);
        }
    }
}

/* ---- rendering ---- */

function createRow(key) {
    const li = ui.template.content.firstElementChild.cloneNode(true);
    const q = (cls) => li.querySelector(`.${cls}`);
    const uid = `task-${++rowSeq}`;
    const row = {
        key,
        li,
        view: q('task-view'),
        done: q('task-done'),
        title: q('task-title'),
        editForm: q('task-edit'),
        editLabel: q('task-edit-label'),
        editInput: q('task-edit-input'),
        editError: q('task-edit-error'),
        cancel: q('task-cancel'),
        controls: q('task-controls'),
        priorityLabel: q('task-priority-label'),
        priority: q('task-priority'),
        up: q('task-up'),
        down: q('task-down'),
        edit: q('task-edit-btn'),
        del: q('task-delete'),
        shownTitle: null,
    };
    row.done.id = `${uid}-done`;
    row.title.htmlFor = row.done.id;
    row.editInput.id = `${uid}-edit`;
    row.editLabel.htmlFor = row.editInput.id;
    row.editError.id = `${uid}-edit-error`;
    row.editInput.setAttribute('aria-describedby', row.editError.id);
    row.priority.id = `${uid}-priority`;
    row.priorityLabel.htmlFor = row.priority.id;
    row.priority.min = String(PRIORITY_MIN);
    row.priority.max = String(PRIORITY_MAX);

    row.done.addEventListener('change', () => setComplete(row.key, row.done.checked));
    row.priority.addEventListener('change', () => setPriorityFromField(row));
    row.priority.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') {
            e.preventDefault();
            setPriorityFromField(row);
        } else if (e.key === 'Escape') {
            const task = state.tasks.get(row.key);
            row.priority.value = task ? String(task.priority) : row.priority.value;
        }
    });
    row.up.addEventListener('click', () => nudgePriority(row.key, -1));
    row.down.addEventListener('click', () => nudgePriority(row.key, +1));
    row.edit.addEventListener('click', () => startEdit(row.key));
    row.del.addEventListener('click', () => removeTask(row.key));
    row.editForm.addEventListener('submit', (e) => {
        e.preventDefault();
        saveEdit(row.key);
    });
    row.cancel.addEventListener('click', () => stopEdit(row.key));
    /* Esc cancels from anywhere in the editor: its field and its Save and Cancel buttons. */
    row.editForm.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
            e.preventDefault();
            stopEdit(row.key);
        }
    });
    return row;
}

function updateRow(row, task) {
    const pending = task.id === null;
    const editing = state.editingKey === row.key;
    const name = quote(task.title);

    row.key = task.key;
    row.li.dataset.id = pending ? '' : String(task.id);
    row.li.classList.toggle('is-complete', task.complete);
    row.li.classList.toggle('is-pending', pending);
    if (pending) {
        row.li.setAttribute('aria-busy', 'true');
    } else {
        row.li.removeAttribute('aria-busy');
    }
    if (row.shownTitle !== task.title) {
        row.title.textContent = task.title;
        row.shownTitle = task.title;
        row.editLabel.textContent = `New title for ${name}`;
        row.priorityLabel.textContent = `Priority of ${name}`;
        row.up.setAttribute('aria-label', `Move ${name} up`);
        row.down.setAttribute('aria-label', `Move ${name} down`);
        row.edit.setAttribute('aria-label', `Edit ${name}`);
        row.del.setAttribute('aria-label', `Delete ${name}`);
    }
    row.done.checked = task.complete;
    if (document.activeElement !== row.priority) {
        row.priority.value = String(task.priority);
    }
    row.up.title = `Priority ${task.priority} → ${task.priority - 1}`;
    row.down.title = `Priority ${task.priority} → ${task.priority + 1}`;

    for (const control of [row.done, row.priority, row.edit, row.del]) {
        control.disabled = pending;
    }
    row.up.disabled = pending || task.priority <= PRIORITY_MIN;
    row.down.disabled = pending || task.priority >= PRIORITY_MAX;

    row.view.hidden = editing;
    row.controls.hidden = editing;
    row.editForm.hidden = !editing;
}

function render() {
    const tasks = sortedTasks();
    const focused = document.activeElement;

    for (const [key, row] of rows) {
        if (!state.tasks.has(key)) {
            row.li.remove();
            rows.delete(key);
        }
    }
    tasks.forEach((task, i) => {
        let row = rows.get(task.key);
        if (!row) {
            row = createRow(task.key);
            rows.set(task.key, row);
        }
        updateRow(row, task);
        const here = ui.list.children[i];
        if (here !== row.li) {
            ui.list.insertBefore(row.li, here || null);
        }
    });
    /* Moving a row takes focus from whatever was in it; give it back. */
    if (focused && focused !== document.activeElement && focused.isConnected) {
        focused.focus();
    }

    ui.loading.hidden = state.loaded;
    ui.list.setAttribute('aria-busy', String(!state.loaded));
    ui.empty.hidden = !state.loaded || tasks.length > 0;
    ui.summary.hidden = !state.loaded || tasks.length === 0;
    const done = tasks.filter((t) => t.complete).length;
    ui.summary.textContent =
        `${tasks.length} ${tasks.length === 1 ? 'task' : 'tasks'}, ${done} done.`;
}

function rekey(oldKey, task) {
    const row = rows.get(oldKey);
    state.tasks.delete(oldKey);
    state.tasks.set(task.key, task);
    if (row) {
        rows.delete(oldKey);
        row.key = task.key;
        rows.set(task.key, row);
    }
    if (state.editingKey === oldKey) {
        state.editingKey = task.key;
    }
}

/* ---- actions ---- */

function setFieldError(input, errorEl, message) {
    errorEl.textContent = message;
    errorEl.hidden = !message;
    if (message) {
        input.setAttribute('aria-invalid', 'true');
    } else {
        input.removeAttribute('aria-invalid');
    }
}

async function addTask(event) {
    event.preventDefault();
    const title = ui.newTitle.value.trim();
    const problem = titleProblem(title);
    if (problem) {
        setFieldError(ui.newTitle, ui.newTitleError, problem);
        ui.newTitle.focus();
        return;
    }
    const priority = parsePriority(ui.newPriority.value);
    if (priority === null) {
        setFieldError(ui.newPriority, ui.newTitleError,
            `Priority must be a whole number from ${PRIORITY_MIN} to ${PRIORITY_MAX}.`);
        ui.newPriority.focus();
        return;
    }
    setFieldError(ui.newTitle, ui.newTitleError, '');
    ui.newPriority.removeAttribute('aria-invalid');
    ui.newTitle.value = '';
    ui.newTitle.focus();

    const tmp = { key: `tmp-${++state.tmpSeq}`, tmpSeq: state.tmpSeq, id: null, title, priority,
        complete: false };
    state.tasks.set(tmp.key, tmp);
    state.mutations++;
    state.inFlight++;
    render();
    try {
        const saved = await createTask({ title, priority, complete: false });
        rekey(tmp.key, { ...saved, key: keyOf(saved.id) });
        announce(`Added ${quote(saved.title)}.`);
        succeeded();
    } catch (err) {
        state.tasks.delete(tmp.key);
        if (!ui.newTitle.value) {
            ui.newTitle.value = title;
        }
        failed(err, `Could not add ${quote(title)}`);
    } finally {
        state.inFlight--;
        render();
    }
}

/* Applies `fields` at once, sends them, and puts the old values back if that fails. */
async function changeTask(key, fields, describe) {
    const task = state.tasks.get(key);
    if (!task || task.id === null) {
        return;
    }
    const before = { ...task };
    const mark = ++state.mutations;
    task.lastChange = mark;
    Object.assign(task, fields);
    state.inFlight++;
    render();
    try {
        const saved = await updateTask(task.id, fields);
        const current = state.tasks.get(key);
        if (current && current.lastChange === mark) {
            Object.assign(current, saved);
        }
        announce(describe(saved));
        succeeded();
    } catch (err) {
        const current = state.tasks.get(key);
        if (err.status === 404) {
            state.tasks.delete(key);
            showBanner(`${quote(before.title)} no longer exists; it was deleted elsewhere.`, false);
        } else {
            if (current && current.lastChange === mark) {
                for (const field of Object.keys(fields)) {
                    current[field] = before[field];
                }
            }
            failed(err, `Could not change ${quote(before.title)}`);
        }
    } finally {
        state.inFlight--;
        render();
    }
}

function setComplete(key, complete) {
    changeTask(key, { complete }, (t) =>
        `${quote(t.title)} marked ${t.complete ? 'done' : 'not done'}.`);
}

function setPriority(key, priority) {
    const task = state.tasks.get(key);
    if (!task || task.priority === priority) {
        return;
    }
    changeTask(key, { priority }, (t) => {
        const position = sortedTasks().findIndex((x) => x.id === t.id) + 1;
        return `${quote(t.title)} now has priority ${t.priority}, position ${position} of ${state.tasks.size}.`;
    });
}

function nudgePriority(key, delta) {
    const task = state.tasks.get(key);
    if (task) {
        setPriority(key, Math.min(PRIORITY_MAX, Math.max(PRIORITY_MIN, task.priority + delta)));
    }
}

function setPriorityFromField(row) {
    const task = state.tasks.get(row.key);
    if (!task) {
        return;
    }
    const priority = parsePriority(row.priority.value);
    if (priority === null) {
        row.priority.value = String(task.priority);
        showBanner(`Priority must be a whole number from ${PRIORITY_MIN} to ${PRIORITY_MAX}.`, false);
        return;
    }
    setPriority(row.key, priority);
}

function startEdit(key) {
    const row = rows.get(key);
    const task = state.tasks.get(key);
    if (!row || !task) {
        return;
    }
    if (state.editingKey && state.editingKey !== key) {
        stopEdit(state.editingKey, false);
    }
    state.editingKey = key;
    row.editInput.value = task.title;
    setFieldError(row.editInput, row.editError, '');
    render();
    row.editInput.focus();
    row.editInput.select();
}

function stopEdit(key, restoreFocus = true) {
    if (state.editingKey !== key) {
        return;
    }
    state.editingKey = null;
    render();
    const row = rows.get(key);
    if (row && restoreFocus) {
        row.edit.focus();
    }
}

function saveEdit(key) {
    const row = rows.get(key);
    const task = state.tasks.get(key);
    if (!row || !task) {
        return;
    }
    const title = row.editInput.value.trim();
    const problem = titleProblem(title);
    if (problem) {
        setFieldError(row.editInput, row.editError, problem);
        row.editInput.focus();
        return;
    }
    stopEdit(key);
    if (title !== task.title) {
        const old = task.title;
        changeTask(key, { title }, (t) => `Renamed ${quote(old)} to ${quote(t.title)}.`);
    }
}

async function removeTask(key) {
    const task = state.tasks.get(key);
    if (!task || task.id === null) {
        return;
    }
    /* Focus moves to the same button on the next row (or the previous one, or the field). */
    const order = sortedTasks();
    const at = order.findIndex((t) => t.key === key);
    const neighbour = order[at + 1] || order[at - 1];

    state.tasks.delete(key);
    state.mutations++;
    state.inFlight++;
    render();
    const next = neighbour && rows.get(neighbour.key);
    if (next && !next.del.disabled) {
        next.del.focus();
    } else {
        ui.newTitle.focus();
    }
    try {
        await deleteTask(task.id);
        announce(`Deleted ${quote(task.title)}.`);
        succeeded();
    } catch (err) {
        if (err.status === 404) {
            announce(`Deleted ${quote(task.title)}.`);
        } else {
            state.tasks.set(key, task);
            failed(err, `Could not delete ${quote(task.title)}`);
        }
    } finally {
        state.inFlight--;
        render();
    }
}

/* ---- start ---- */

ui.addForm.addEventListener('submit', addTask);
ui.newTitle.addEventListener('input', () => {
    if (ui.newTitle.getAttribute('aria-invalid')) {
        setFieldError(ui.newTitle, ui.newTitleError, '');
    }
});
ui.newPriority.min = String(PRIORITY_MIN);
ui.newPriority.max = String(PRIORITY_MAX);
ui.bannerRetryNow.addEventListener('click', attemptRecovery);
ui.bannerDismiss.addEventListener('click', () => {
    hideBanner();
    ui.newTitle.focus();
});
window.addEventListener('online', () => {
    if (state.offline) {
        attemptRecovery();
    }
});
document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
        refresh();
    }
});
setInterval(() => {
    if (document.visibilityState === 'visible' && state.inFlight === 0) {
        refresh();
    }
}, REFRESH_MS);

render();
refresh();
