/*
 * page.mjs — reading the to-do page the way a user (and a screen reader) sees it.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

const AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
    'utf8');

/* The rows in display order, as shown: title text, checkbox state, priority field, task id. */
export function rows(page) {
    return page.$$eval('#task-list > li', (lis) => lis.map((li) => ({
        id: Number(li.dataset.id),
        title: li.querySelector('.task-title').textContent,
        complete: li.querySelector('.task-done').checked,
        struck: getComputedStyle(li.querySelector('.task-title')).textDecorationLine
            .includes('line-through'),
        priority: Number(li.querySelector('.task-priority').value),
        pending: li.classList.contains('is-pending'),
    })));
}

export async function titles(page) {
    return (await rows(page)).map((r) => r.title);
}

export const statusText = (page) => page.locator('#status').textContent();

/* Text and state of the error banner ('' when hidden). */
export function bannerText(page) {
    return page.$eval('#banner', (b) => (b.hidden ? '' : b.textContent.replace(/\s+/g, ' ').trim()));
}

/*
 * WCAG 2 contrast of every visible piece of text on the page against the background it is
 * drawn on (the nearest ancestor with an opaque background colour), placeholders included.
 * Returns [{ text, fg, bg, ratio }] sorted from the lowest ratio.
 */
export function contrastReport(page) {
    return page.evaluate(() => {
        const parse = (c) => {
            const m = c.match(/rgba?\(([^)]+)\)/);
            if (!m) {
                return null;
            }
            const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
            return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
        };
        const lum = ({ r, g, b }) => {
            const ch = (v) => {
                const s = v / 255;
                return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
            };
            return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
        };
        const ratio = (a, b) => {
            const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
            return (hi + 0.05) / (lo + 0.05);
        };
        const hex = ({ r, g, b }) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
        const backgroundOf = (el) => {
            for (let e = el; e; e = e.parentElement) {
                const c = parse(getComputedStyle(e).backgroundColor);
                if (c && c.a === 1) {
                    return c;
                }
                if (c && c.a > 0) {
                    return { error: `translucent background on ${e.tagName}.${e.className}` };
                }
            }
            return parse(getComputedStyle(document.documentElement).backgroundColor) ||
                { r: 255, g: 255, b: 255, a: 1 };
        };
        /* Opacity (e.g. a disabled button) dims text: blend it over the background. */
        const opacityOf = (el) => {
            let o = 1;
            for (let e = el; e; e = e.parentElement) {
                o *= Number(getComputedStyle(e).opacity);
            }
            return o;
        };
        const visible = (el) => {
            const r = el.getBoundingClientRect();
            const s = getComputedStyle(el);
            return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' &&
                el.closest('[hidden], .vh') === null;
        };
        const out = [];
        const add = (el, text, fgColour) => {
            const bg = backgroundOf(el);
            if (bg.error) {
                out.push({ text, error: bg.error, ratio: 0 });
                return;
            }
            let fg = parse(fgColour);
            const o = opacityOf(el) * fg.a;
            fg = { r: Math.round(fg.r * o + bg.r * (1 - o)), g: Math.round(fg.g * o + bg.g * (1 - o)),
                b: Math.round(fg.b * o + bg.b * (1 - o)) };
            out.push({ text: text.slice(0, 40), fg: hex(fg), bg: hex(bg),
                ratio: Math.round(ratio(fg, bg) * 100) / 100 });
        };
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const text = n.textContent.trim();
            if (text && n.parentElement && visible(n.parentElement) &&
                n.parentElement.closest('template') === null) {
                add(n.parentElement, text, getComputedStyle(n.parentElement).color);
            }
        }
        for (const input of document.querySelectorAll('input[type=text], input[type=number]')) {
            if (!visible(input)) {
                continue;
            }
            if (input.value) {
                add(input, `[value] ${input.value}`, getComputedStyle(input).color);
            } else if (input.placeholder) {
                add(input, `[placeholder] ${input.placeholder}`,
                    getComputedStyle(input, '::placeholder').color);
            }
        }
        return out.sort((a, b) => a.ratio - b.ratio);
    });
}

/* Whether the focused element shows a focus indicator (an outline of at least 2 px). */
export function focusIndicator(page) {
    return page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el === document.body) {
            return null;
        }
        const s = getComputedStyle(el);
        return {
            tag: el.tagName.toLowerCase(),
            name: el.getAttribute('aria-label') || el.id || el.textContent.trim(),
            outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
            focusVisible: el.matches(':focus-visible'),
        };
    });
}

/*
 * axe-core's violations on the page as it is now, every rule axe runs by default (WCAG A/AA and
 * best practices): [{ id, impact, help, nodes: [selector, ...] }]. axe is evaluated through the
 * DevTools protocol, so the page's CSP (no inline script) stays as served.
 */
export async function axeViolations(page) {
    await page.evaluate(AXE_SOURCE);
    return page.evaluate(async () => {
        const result = await window.axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
    });
}

/*
 * Every visible control a finger or pointer can hit (fields, buttons, links), with its size in
 * CSS px: [{ name, width, height }].
 */
export function targetSizes(page) {
    return page.evaluate(() => {
        const out = [];
        for (const el of document.querySelectorAll('input, button, a[href], select, textarea')) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0 || el.closest('[hidden], .vh, template')) {
                continue;
            }
            out.push({ name: el.getAttribute('aria-label') || el.id || el.className ||
                el.textContent.trim(), width: r.width, height: r.height });
        }
        return out;
    });
}
