// Certificates: the inventory (filter, sort, search), kept current by the live stream; the
// detail view (fields, versions, the certificate's own event history) and the actions the
// signed-in role allows (issue, renew, revoke, export).

import { all, api, download } from '../api.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { allows, daysUntil, fmtTime, matchesSearch, sortBy } from '../format.js';
import { stream } from '../sse.js';
import { issueForm } from './issue_form.js';

const STATUSES = ['', 'Pending', 'Active', 'Expiring', 'Expired', 'Failed', 'Revoked', 'Archived'];
const SORTS = [
  ['-created_at', 'Newest first'],
  ['expires_at', 'Expires soonest'],
  ['-expires_at', 'Expires latest'],
  ['name', 'Name'],
  ['common_name', 'Common name'],
  ['status', 'Status'],
];
const REASONS = ['unspecified', 'keyCompromise', 'caCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation'];

/** Filters survive moving between list and detail within the session (memory only). */
const state = { q: '', status: '', environment: '', sort: '-created_at' };

export function certificatesPage(main, ctx) {
  return ctx.params[0] ? detail(main, ctx, ctx.params[0]) : list(main, ctx);
}

function list(main, { session }) {
  let certs = [];
  const body = h('div', { id: 'cert-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const count = h('span', { class: 'muted', id: 'cert-count' });
  const search = h('input', { type: 'search', id: 'cert-search', placeholder: 'Search name, CN, SAN, id', value: state.q, 'aria-label': 'Search' });
  const status = h('select', { id: 'cert-status', 'aria-label': 'Status' }, STATUSES.map((s) => h('option', { value: s }, s || 'Any status')));
  const env = h('input', { type: 'text', id: 'cert-env', placeholder: 'Environment', value: state.environment, 'aria-label': 'Environment' });
  const sort = h('select', { id: 'cert-sort', 'aria-label': 'Sort' }, SORTS.map(([v, l]) => h('option', { value: v }, l)));
  status.value = state.status;
  sort.value = state.sort;
  const formSlot = h('div');

  const draw = () => {
    const rows = sortBy(certs.filter((c) => matchesSearch(c, state.q)), state.sort);
    count.textContent = `${rows.length} of ${certs.length}`;
    mount(
      body,
      table(
        [
          { key: 'name', label: 'Name' },
          { key: 'common_name', label: 'Common name', cls: 'mono' },
          { key: 'status', label: 'Status', render: (c) => pill(c.status) },
          { key: 'environment', label: 'Env', cls: 'hide-narrow' },
          { key: 'issuer_id', label: 'Issuer', cls: 'hide-narrow' },
          { key: 'expires_at', label: 'Expires', render: (c) => expiry(c) },
        ],
        rows,
        {
          onRow: (c) => (location.hash = `#/certificates/${encodeURIComponent(c.id)}`),
          rowAttrs: (c) => ({ dataset: { id: c.id, status: c.status } }),
          empty: certs.length ? 'No certificate matches.' : 'No certificates yet.',
        },
      ),
    );
  };
  const load = async () => {
    try {
      certs = await all('/api/v1/certificates', { status: state.status, environment: state.environment });
      draw();
    } catch (e) {
      mount(body, notice(e.message));
    }
  };
  search.addEventListener('input', () => {
    state.q = search.value;
    draw();
  });
  status.addEventListener('change', () => {
    state.status = status.value;
    load();
  });
  env.addEventListener('change', () => {
    state.environment = env.value.trim();
    load();
  });
  sort.addEventListener('change', () => {
    state.sort = sort.value;
    draw();
  });

  const actions = allows(session.role, 'operator')
    ? h('button', { class: 'primary', id: 'new-certificate', onclick: () => mount(formSlot, issueForm(() => { mount(formSlot); load(); }, () => mount(formSlot))) }, 'Issue certificate')
    : null;
  mount(
    main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Certificates'), count, actions),
    formSlot,
    h('div', { class: 'toolbar' }, search, status, env, sort),
    body,
  );
  load();
  // Live: any certificate event re-reads the list (debounced: one issuance is several events).
  let timer = null;
  const off = stream.on((e) => {
    if (!String(e.stream_id ?? '').startsWith('certificate-')) return;
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}

function expiry(c) {
  if (!c.expires_at) return '';
  const d = daysUntil(c.expires_at);
  return h('span', { title: fmtTime(c.expires_at) }, c.expires_at.slice(0, 10), h('span', { class: d < 30 ? 'days warn' : 'days' }, d < 0 ? ' (expired)' : ` (${d} d)`));
}

function detail(main, { session }, id) {
  const head = h('div', { class: 'page-head' }, h('a', { href: '#/certificates', class: 'back' }, '← Certificates'), h('h1', { id: 'cert-title' }, id));
  const fields = h('section', { class: 'panel' }, h('p', { class: 'muted' }, 'Loading…'));
  const actions = h('div', { class: 'actions', id: 'cert-actions' });
  const versions = h('section', { class: 'panel' }, h('h2', {}, 'Versions'));
  const history = h('section', { class: 'panel' }, h('h2', {}, 'Event history'));
  const msg = h('div', { id: 'cert-message' });
  mount(main, head, msg, actions, fields, versions, history);
  const path = `/api/v1/certificates/${encodeURIComponent(id)}`;

  const load = async () => {
    try {
      const [c, vs, ev] = await Promise.all([
        api(path),
        api(`${path}/versions`, { query: { per_page: 100 } }).catch(() => ({ data: [] })),
        all('/api/v1/audit', { resource_type: 'certificate', resource_id: id }, 500),
      ]);
      mount(head.querySelector('h1'), c.name || c.id, ' ', pill(c.status));
      const kv = [
        ['Id', c.id], ['Common name', c.common_name], ['SANs', (c.sans ?? []).join(', ')], ['Status', c.status],
        ['Environment', c.environment], ['Issuer', c.issuer_id], ['Profile', c.certificate_profile_id ?? c.profile_id],
        ['Renewal policy', c.renewal_policy_id], ['Owner', c.owner_id], ['Team', c.team_id],
        ['Serial', c.serial_number], ['Expires', fmtTime(c.expires_at)], ['Revoked', c.revoked_at ? `${fmtTime(c.revoked_at)} (${c.revocation_reason ?? ''})` : ''],
        ['Deployments (targets)', (c.target_ids ?? []).join(', ') || 'none'], ['Created', fmtTime(c.created_at)], ['Updated', fmtTime(c.updated_at)],
      ].filter(([, v]) => v);
      mount(fields, h('h2', {}, 'Details'), h('dl', { class: 'kv' }, kv.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])));
      mount(
        versions,
        h('h2', {}, 'Versions'),
        table(
          [
            { key: 'serial_number', label: 'Serial', cls: 'mono' },
            { key: 'not_before', label: 'Not before', render: (v) => fmtTime(v.not_before), cls: 'hide-narrow' },
            { key: 'not_after', label: 'Not after', render: (v) => fmtTime(v.not_after) },
            { key: 'key_algorithm', label: 'Key', render: (v) => [v.key_algorithm, v.key_size].filter(Boolean).join(' '), cls: 'hide-narrow' },
          ],
          vs.data,
          { empty: 'No issued version yet.', stack: true },
        ),
      );
      mount(
        history,
        h('h2', {}, 'Event history'),
        table(
          [
            { key: 'position', label: '#' },
            { key: 'timestamp', label: 'When', render: (e) => fmtTime(e.timestamp) },
            { key: 'action', label: 'Event', cls: 'mono' },
            { key: 'actor', label: 'By', cls: 'hide-narrow' },
          ],
          sortBy(ev, '-position'),
          { empty: 'No events.', rowAttrs: (e) => ({ dataset: { action: e.action } }), stack: true },
        ),
      );
      mount(actions, actionButtons(c, session, path, load, msg));
    } catch (e) {
      mount(fields, notice(e.message));
    }
  };
  load();
  let timer = null;
  const off = stream.on((e) => {
    if (e.stream_id !== `certificate-${id}`) return;
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}

function actionButtons(c, session, path, reload, msg) {
  const out = [];
  const say = (text, kind = 'ok') => mount(msg, notice(text, kind));
  const run = (fn, done) => async () => {
    try {
      await fn();
      say(done);
      reload();
    } catch (e) {
      say(e.message, 'error');
    }
  };
  const issued = Boolean(c.serial_number || c.expires_at);
  if (issued) out.push(h('button', { id: 'export-pem', onclick: run(() => download(`${path}/export/pem`, `${c.id}.pem`, { query: { download: 'true' } }), 'PEM downloaded.') }, 'Export PEM'));
  if (!allows(session.role, 'operator')) return out;
  const live = ['Active', 'Expiring', 'Expired', 'Failed'].includes(c.status);
  if (live) out.push(h('button', { id: 'renew', onclick: run(() => api(`${path}/renew`, { method: 'POST', body: {} }), 'Renewal started.') }, 'Renew'));
  // The PKCS#12 bundle carries the private key: admin only on the server (key_export_routes).
  if (issued && allows(session.role, 'admin')) {
    const pw = h('input', { type: 'password', autocomplete: 'new-password', placeholder: 'PKCS#12 password', 'aria-label': 'PKCS#12 password', id: 'p12-password' });
    out.push(h('span', { class: 'inline-form' }, pw, h('button', { id: 'export-p12', onclick: run(() => download(`${path}/export/pkcs12`, `${c.id}.p12`, { method: 'POST', body: { password: pw.value } }), 'PKCS#12 downloaded.') }, 'Export PKCS#12')));
  }
  if (issued && c.status !== 'Revoked' && c.status !== 'Archived') {
    const reason = h('select', { id: 'revoke-reason', 'aria-label': 'Revocation reason' }, REASONS.map((r) => h('option', { value: r }, r)));
    out.push(
      h('span', { class: 'inline-form' }, reason, h('button', {
        class: 'danger',
        id: 'revoke',
        onclick: run(async () => {
          if (!window.confirm(`Revoke ${c.common_name}? Relying parties will reject it.`)) throw new Error('Revocation cancelled.');
          await api(`${path}/revoke`, { method: 'POST', body: { reason: reason.value } });
        }, 'Certificate revoked.'),
      }, 'Revoke')),
    );
  }
  return out;
}
