// Builds DOM nodes from data. Text always goes in as text nodes (never innerHTML), so nothing an
// API answer holds can become markup: the first line of defence, the CSP the second.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** An HTML element: h('button', {class: 'x', onclick: f}, 'text', child...). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, for the charts. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  build(el, {}, children);
  return el;
}

/**
 * A table from rows and column specs {key, label, render?, cls?}; onRow(row) makes rows
 * clickable; `stack` lets each row wrap into lines on narrow screens (long event lists).
 */
export function table(columns, rows, { onRow, empty = 'Nothing to show.', rowAttrs, stack = false } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: stack ? 'table-wrap stack' : 'table-wrap' },
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.cls }, c.label)))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {
              class: onRow ? 'clickable' : undefined,
              tabindex: onRow ? '0' : undefined,
              onclick: onRow ? () => onRow(r) : undefined,
              onkeydown: onRow ? (e) => e.key === 'Enter' && onRow(r) : undefined,
              ...(rowAttrs ? rowAttrs(r) : {}),
            },
            columns.map((c) => h('td', { class: c.cls }, c.render ? c.render(r) : (r[c.key] ?? ''))),
          ),
        ),
      ),
    ),
  );
}

/** A status pill whose colour follows the status name. */
export function pill(status) {
  return h('span', { class: `pill pill-${String(status ?? '').toLowerCase()}` }, status ?? '');
}

/** An error or notice line. */
export function notice(text, kind = 'error') {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}
