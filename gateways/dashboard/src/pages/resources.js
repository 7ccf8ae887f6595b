// Issuers, profiles, renewal policies and agents: read-only lists with each entry's document.

import { all } from '../api.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { fmtTime } from '../format.js';

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

export function resourcePage(kind) {
  return (main) => {
    const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
    const doc = h('div');
    mount(main, h('div', { class: 'page-head' }, h('h1', {}, TITLES[kind])), body, doc);
    all(`/api/v1/${kind}`)
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
  };
}
