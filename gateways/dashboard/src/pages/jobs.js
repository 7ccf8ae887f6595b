// Jobs: issuance, renewal and deployment work with its state; operators may cancel open jobs.
// (The server has no approval workflow yet, so there is no approvals view.)

import { all, api } from '../api.js';
import { h, mount, notice, pill, table } from '../dom.js';
import { allows, fmtTime, sortBy } from '../format.js';
import { stream } from '../sse.js';

const STATUSES = ['', 'Pending', 'AwaitingCSR', 'Running', 'Completed', 'Failed', 'Cancelled'];

export function jobsPage(main, { session }) {
  const status = h('select', { id: 'job-status', 'aria-label': 'Status' }, STATUSES.map((s) => h('option', { value: s }, s || 'Any status')));
  const type = h('input', { id: 'job-type', placeholder: 'Type (Issuance, Renewal, …)', 'aria-label': 'Type' });
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const msg = h('div');
  const load = async () => {
    try {
      const jobs = await all('/api/v1/jobs', { status: status.value, type: type.value.trim() }, 1000);
      const canCancel = allows(session.role, 'operator');
      mount(
        body,
        table(
          [
            { key: 'id', label: 'Job', cls: 'mono wrap' },
            { key: 'type', label: 'Type' },
            { key: 'certificate_id', label: 'Certificate', render: (j) => h('a', { href: `#/certificates/${encodeURIComponent(j.certificate_id)}` }, j.certificate_id), cls: 'hide-narrow' },
            { key: 'status', label: 'Status', render: (j) => pill(j.status) },
            { key: 'attempts', label: 'Tries', render: (j) => `${j.attempts ?? 0}/${j.max_attempts ?? ''}`, cls: 'hide-narrow' },
            { key: 'created_at', label: 'Created', render: (j) => fmtTime(j.created_at) },
            { key: 'last_error', label: 'Error', cls: 'wrap hide-narrow' },
            {
              key: 'act',
              label: '',
              render: (j) =>
                canCancel && ['Pending', 'AwaitingCSR', 'Running'].includes(j.status)
                  ? h('button', {
                      class: 'small',
                      onclick: async (e) => {
                        e.stopPropagation();
                        try {
                          await api(`/api/v1/jobs/${encodeURIComponent(j.id)}/cancel`, { method: 'POST', body: {} });
                          load();
                        } catch (err) {
                          mount(msg, notice(err.message));
                        }
                      },
                    }, 'Cancel')
                  : '',
            },
          ],
          sortBy(jobs, '-created_at'),
          { empty: 'No jobs.', stack: true },
        ),
      );
    } catch (e) {
      mount(body, notice(e.message));
    }
  };
  status.addEventListener('change', load);
  type.addEventListener('change', load);
  mount(main, h('div', { class: 'page-head' }, h('h1', {}, 'Jobs')), msg, h('div', { class: 'toolbar' }, status, type), body);
  load();
  let timer = null;
  const off = stream.on((e) => {
    if (!String(e.stream_id ?? '').startsWith('job-')) return;
    clearTimeout(timer);
    timer = setTimeout(load, 300);
  });
  return () => {
    off();
    clearTimeout(timer);
  };
}
