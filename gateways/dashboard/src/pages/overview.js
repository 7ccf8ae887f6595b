// Overview: counts by status, the expiration timeline, recent failures.

import { all, api } from '../api.js';
import { barChart } from '../chart.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { expiryBuckets, fmtTime } from '../format.js';

export function overviewPage(main) {
  const cards = h('section', { class: 'cards', id: 'summary' });
  const chart = h('section', { class: 'panel' }, h('h2', {}, 'Expiration timeline'), h('p', { class: 'muted' }, 'Loading…'));
  const failures = h('section', { class: 'panel' }, h('h2', {}, 'Recent failures'));
  mount(main, h('h1', {}, 'Overview'), cards, chart, failures);

  (async () => {
    try {
      const [sum, byStatus, certs, failed] = await Promise.all([
        api('/api/v1/stats/summary'),
        api('/api/v1/stats/certificates-by-status'),
        all('/api/v1/certificates'),
        api('/api/v1/jobs', { query: { status: 'Failed', per_page: 10 } }),
      ]);
      const card = (label, value, href) => h('a', { class: 'card', href }, h('span', { class: 'card-value' }, String(value ?? 0)), h('span', { class: 'card-label' }, label));
      mount(
        cards,
        card('Certificates', sum.total_certificates, '#/certificates'),
        ...byStatus.status_counts.map((c) => card(c.status, c.count, '#/certificates')),
        card('Expiring', sum.expiring_certificates, '#/certificates'),
        card('Pending jobs', sum.pending_jobs, '#/jobs'),
        card('Failed jobs', sum.failed_jobs, '#/jobs'),
        card('Agents online', `${sum.active_agents}/${sum.total_agents}`, '#/agents'),
      );
      mount(chart, h('h2', {}, 'Expiration timeline'), h('p', { class: 'muted' }, 'Certificates in force, by month of expiry (UTC).'), barChart(expiryBuckets(certs)));
      mount(
        failures,
        h('h2', {}, 'Recent failures'),
        table(
          [
            { key: 'id', label: 'Job' },
            { key: 'type', label: 'Type' },
            { key: 'certificate_id', label: 'Certificate', render: (j) => h('a', { href: `#/certificates/${encodeURIComponent(j.certificate_id)}` }, j.certificate_id) },
            { key: 'status', label: 'Status', render: (j) => pill(j.status) },
            { key: 'last_error', label: 'Error', cls: 'wrap' },
            { key: 'completed_at', label: 'When', render: (j) => fmtTime(j.completed_at ?? j.updated_at ?? j.created_at), cls: 'hide-narrow' },
          ],
          failed.data,
          { empty: 'No failed jobs.' },
        ),
      );
    } catch (e) {
      mount(cards, notice(e.message));
    }
  })();
}
