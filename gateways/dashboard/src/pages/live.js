// The live event stream: every committed event as it happens, newest first.

import { h, mount, table } from '../dom.js';
import { fmtTime } from '../format.js';
import { stream } from '../sse.js';

const MAX = 500;
/** Kept across page switches while signed in, so the view does not start empty each time. */
const seen = [];
stream.on((e) => {
  seen.unshift(e);
  if (seen.length > MAX) seen.length = MAX;
});

/** Forgets the events seen (on sign-out). */
export function clearLive() {
  seen.length = 0;
}

export function livePage(main) {
  let paused = false;
  const filter = h('input', { type: 'search', id: 'live-filter', placeholder: 'Filter by type or stream', 'aria-label': 'Filter' });
  const pause = h('button', { id: 'live-pause', onclick: () => { paused = !paused; pause.textContent = paused ? 'Resume' : 'Pause'; if (!paused) draw(); } }, 'Pause');
  const state = h('span', { class: 'muted', id: 'live-state' });
  const body = h('div', { id: 'live-list' });
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = seen.filter((e) => !q || e.type.toLowerCase().includes(q) || String(e.stream_id).toLowerCase().includes(q));
    mount(
      body,
      table(
        [
          { key: 'position', label: '#' },
          { key: 'occurred_at', label: 'When', render: (e) => fmtTime(e.occurred_at) },
          { key: 'type', label: 'Type', cls: 'mono' },
          { key: 'stream_id', label: 'Stream', cls: 'mono wrap' },
          { key: 'principal', label: 'By', cls: 'hide-narrow' },
        ],
        rows.slice(0, 200),
        { empty: 'Waiting for events…', rowAttrs: (e) => ({ dataset: { type: e.type, stream: e.stream_id } }), stack: true },
      ),
    );
  };
  filter.addEventListener('input', draw);
  mount(main, h('div', { class: 'page-head' }, h('h1', {}, 'Live events'), state), h('div', { class: 'toolbar' }, filter, pause), body);
  draw();
  const off = stream.on(() => !paused && draw());
  const offState = stream.onState((s) => (state.textContent = `stream: ${s}`));
  return () => {
    off();
    offState();
  };
}
