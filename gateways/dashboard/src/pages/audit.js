// Audit: the event timeline with filters, the hash chain's verification status, export, and the
// "as of" picker that shows the inventory at a past instant (GET /api/v1/audit/inventory, the
// same fold as `certctl-audit replay`).

import { all, api, saveBlob } from '../api.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { auditCsv, endOfSecondIso, fmtTime, isoToLocalInput, localInputToIso } from '../format.js';

const KINDS = ['certificate', 'job', 'issuer', 'profile', 'renewal_policy', 'team', 'owner', 'agent'];
const PER_PAGE = 50;

export function auditPage(main) {
  const f = {
    actor: h('input', { id: 'a-actor', placeholder: 'Actor (apikey:admin)', 'aria-label': 'Actor' }),
    resource_type: h('select', { id: 'a-type', 'aria-label': 'Resource type' }, ['', ...KINDS].map((k) => h('option', { value: k }, k || 'Any resource'))),
    resource_id: h('input', { id: 'a-id', placeholder: 'Resource id', 'aria-label': 'Resource id' }),
    action: h('input', { id: 'a-action', placeholder: 'Event (certificate.revoked)', 'aria-label': 'Event type' }),
    from: h('input', { id: 'a-from', type: 'datetime-local', step: '1', 'aria-label': 'From' }),
    to: h('input', { id: 'a-to', type: 'datetime-local', step: '1', 'aria-label': 'To' }),
  };
  let page = 1;
  const query = () => ({
    actor: f.actor.value.trim(),
    resource_type: f.resource_type.value,
    resource_id: f.resource_id.value.trim(),
    action: f.action.value.trim(),
    from: localInputToIso(f.from.value),
    to: localInputToIso(f.to.value),
  });

  const chain = h('section', { class: 'panel', id: 'chain' });
  const timeline = h('div', { id: 'audit-timeline' });
  const pager = h('div', { class: 'pager' });
  const asOfInput = h('input', { id: 'asof-input', type: 'datetime-local', step: '1', 'aria-label': 'As of', value: isoToLocalInput(new Date().toISOString()) });
  const asOfKind = h('select', { id: 'asof-kind', 'aria-label': 'Kind' }, KINDS.map((k) => h('option', { value: k }, k)));
  const asOfResult = h('div', { id: 'asof-result' });
  /** The exact instant asked for: a picked event's microsecond timestamp, else the end of the input's second. */
  let asOfExact = null;

  const loadTimeline = async () => {
    try {
      const r = await api('/api/v1/audit', { query: { ...query(), page, per_page: PER_PAGE } });
      mount(
        timeline,
        table(
          [
            { key: 'position', label: '#' },
            { key: 'timestamp', label: 'When', render: (e) => fmtTime(e.timestamp) },
            { key: 'action', label: 'Event', cls: 'mono' },
            // Ids can be long (a job's carries its certificate's id): they wrap, not widen the table.
            { key: 'resource_id', label: 'Resource', cls: 'wrap', render: (e) => (e.resource_type === 'certificate' ? h('a', { href: `#/certificates/${encodeURIComponent(e.resource_id)}` }, e.resource_id) : `${e.resource_type} ${e.resource_id}`) },
            { key: 'actor', label: 'By', cls: 'hide-narrow' },
            { key: 'asof', label: '', render: (e) => h('button', { class: 'small', title: 'Show the inventory right after this event', onclick: () => showAsOf(e.timestamp) }, 'as of') },
          ],
          r.data,
          { empty: 'No events match.', rowAttrs: (e) => ({ dataset: { action: e.action, position: e.position } }), stack: true },
        ),
      );
      const pages = Math.max(1, Math.ceil(r.total / PER_PAGE));
      mount(
        pager,
        h('button', { disabled: page <= 1, onclick: () => { page--; loadTimeline(); } }, '← Newer'),
        h('span', { class: 'muted' }, `page ${page} of ${pages} · ${r.total} events`),
        h('button', { disabled: page >= pages, onclick: () => { page++; loadTimeline(); } }, 'Older →'),
      );
    } catch (e) {
      mount(timeline, notice(e.message));
    }
  };

  const verify = async () => {
    mount(chain, h('h2', {}, 'Chain verification'), h('p', { class: 'muted' }, 'Verifying the hash chain over the whole log…'));
    try {
      const r = await api('/api/v1/audit/verify');
      const ok = r.status === 'intact';
      mount(
        chain,
        h('h2', {}, 'Chain verification'),
        h('p', { class: ok ? 'chain-ok' : 'chain-bad', id: 'chain-status' }, ok ? `Intact: ${r.events_checked} events verified.` : `Broken${r.first_bad_position ? ` at position ${r.first_bad_position}` : ''}: ${r.problem}`),
        ok ? h('p', { class: 'mono small wrap' }, `head ${r.head_hash}`) : null,
        h('button', { onclick: verify }, 'Verify again'),
      );
    } catch (e) {
      mount(chain, h('h2', {}, 'Chain verification'), notice(e.message), h('button', { onclick: verify }, 'Retry'));
    }
  };

  const exportAs = async (format) => {
    try {
      const rows = await all('/api/v1/audit', query(), 100000);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'csv') saveBlob(new Blob([auditCsv(rows)], { type: 'text/csv' }), `certctl-audit-${stamp}.csv`);
      else saveBlob(new Blob([JSON.stringify(rows, null, 2)], { type: 'application/json' }), `certctl-audit-${stamp}.json`);
    } catch (e) {
      mount(timeline, notice(e.message));
    }
  };

  async function showAsOf(exact) {
    if (exact) {
      asOfExact = exact;
      asOfInput.value = isoToLocalInput(exact);
    }
    const when = asOfExact ?? endOfSecondIso(asOfInput.value);
    if (!when) return mount(asOfResult, notice('Pick a date and time.'));
    const kind = asOfKind.value;
    mount(asOfResult, h('p', { class: 'muted' }, 'Replaying the log…'));
    try {
      const r = await api('/api/v1/audit/inventory', { query: { as_of: when, kind } });
      const rows = r[Object.keys(r).find((k) => Array.isArray(r[k]))] ?? [];
      mount(
        asOfResult,
        h('p', { id: 'asof-summary' }, `${r.total} ${kind} entities as of ${fmtTime(r.as_of)} (log position ${r.position}).`),
        table(
          [
            { key: 'id', label: 'Id', cls: 'mono' },
            { key: 'name', label: 'Name' },
            { key: 'common_name', label: 'Common name', cls: 'hide-narrow' },
            { key: 'status', label: 'Status', render: (x) => (x.status ? pill(x.status) : '') },
            { key: 'expires_at', label: 'Expires', render: (x) => fmtTime(x.expires_at ?? x.not_after), cls: 'hide-narrow' },
          ],
          rows,
          { empty: 'Nothing existed then.', rowAttrs: (x) => ({ dataset: { id: x.id, status: x.status ?? '' } }) },
        ),
      );
    } catch (e) {
      mount(asOfResult, notice(e.message));
    }
  }

  const apply = () => {
    page = 1;
    loadTimeline();
  };
  for (const el of Object.values(f)) el.addEventListener('change', apply);
  asOfInput.addEventListener('change', () => (asOfExact = null));

  mount(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Audit'), h('div', { class: 'actions' }, h('button', { id: 'export-json', onclick: () => exportAs('json') }, 'Export JSON'), h('button', { id: 'export-csv', onclick: () => exportAs('csv') }, 'Export CSV'))),
    chain,
    h(
      'section',
      { class: 'panel', id: 'asof' },
      h('h2', {}, 'Inventory as of'),
      h('p', { class: 'muted' }, 'Rebuilt from the event log up to that instant (your local time zone).'),
      h('div', { class: 'toolbar' }, asOfInput, asOfKind, h('button', { class: 'primary', id: 'asof-show', onclick: () => showAsOf() }, 'Show')),
      asOfResult,
    ),
    h('section', { class: 'panel' }, h('h2', {}, 'Timeline'), h('div', { class: 'toolbar' }, ...Object.values(f)), timeline, pager),
  );
  verify();
  loadTimeline();
}
