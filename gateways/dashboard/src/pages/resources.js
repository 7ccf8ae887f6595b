// Issuers, profiles, renewal policies and agents: read-only lists with each entry's document.

import { all, api } from '../api.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { allows, fmtTime } from '../format.js';

const TITLES = { issuers: 'Issuers', profiles: 'Profiles', 'renewal-policies': 'Renewal policies', agents: 'Agents' };
const COLUMNS = {
  issuers: [{ key: 'type', label: 'Type' }, { key: 'enabled', label: 'Enabled', render: (r) => (r.enabled === false ? 'no' : 'yes') }],
  profiles: [{ key: 'description', label: 'Description', cls: 'wrap hide-narrow' }],
  'renewal-policies': [
    { key: 'renewal_window_days', label: 'Window (days)' },
    { key: 'auto_renew', label: 'Auto', render: (r) => (r.auto_renew ? 'yes' : 'no') },
    { key: 'alert_thresholds_days', label: 'Alerts (days)', render: (r) => (r.alert_thresholds_days ?? []).join(', '), cls: 'hide-narrow' },
  ],
  agents: [
    { key: 'status', label: 'Status', render: (r) => pill(r.status) },
    { key: 'hostname', label: 'Host', cls: 'hide-narrow' },
    { key: 'last_heartbeat_at', label: 'Last heartbeat', render: (r) => fmtTime(r.last_heartbeat_at) },
  ],
};

/**
 * A renewal policy is needed before the first certificate can be issued, so an admin can create
 * one here (the other kinds are read-only in the dashboard for now).
 */
function policyForm(onDone) {
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const id = h('input', { id: 'rp-id', placeholder: 'rp-standard' });
  const name = h('input', { id: 'rp-name', required: true, placeholder: 'Standard' });
  const days = h('input', { id: 'rp-days', type: 'number', min: '1', value: '30' });
  const auto = h('select', { id: 'rp-auto' }, h('option', { value: 'true' }, 'yes'), h('option', { value: 'false' }, 'no'));
  const status = h('div');
  return h(
    'form',
    {
      class: 'panel form',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { name: name.value.trim(), renewal_window_days: Number(days.value), auto_renew: auto.value === 'true' };
        if (id.value.trim()) body.id = id.value.trim();
        try {
          await api('/api/v1/renewal-policies', { method: 'POST', body });
          onDone();
        } catch (err) {
          mount(status, notice(err.message));
        }
      },
    },
    h('h2', {}, 'New renewal policy'),
    h('div', { class: 'grid' }, field('Id (optional)', id), field('Name', name), field('Renew days before expiry', days), field('Renew automatically', auto)),
    status,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'rp-submit' }, 'Create')),
  );
}

export function resourcePage(kind) {
  return (main, { session }) => {
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const doc = h('div');
    const formSlot = h('div');
    const load = () => all(`/api/v1/${kind}`)
      .then((rows) =>
        mount(
          body,
          table(
            [{ key: 'id', label: 'Id', cls: 'mono' }, { key: 'name', label: 'Name' }, ...COLUMNS[kind], { key: 'updated_at', label: 'Updated', render: (r) => fmtTime(r.updated_at), cls: 'hide-narrow' }],
            rows,
            { onRow: (r) => mount(doc, h('section', { class: 'panel' }, h('h2', {}, r.name ?? r.id), h('pre', { class: 'json' }, JSON.stringify(r, null, 2)))) },
          ),
        ),
      )
      .catch((e) => mount(body, notice(e.message)));
    const create =
      kind === 'renewal-policies' && allows(session.role, 'admin')
        ? h('button', { class: 'primary', id: 'new-policy', onclick: () => mount(formSlot, policyForm(() => { mount(formSlot); load(); })) }, 'New renewal policy')
        : null;
    mount(main, h('div', { class: 'page-head' }, h('h1', {}, TITLES[kind]), create), formSlot, body, doc);
    load();
  };
}
