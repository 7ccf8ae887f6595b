// The "issue a certificate" form (operator): creates the certificate, which starts issuance.

import { all, api } from '../api.js';
import { h, mount, notice } from '../dom.js';

export function issueForm(onDone, onCancel) {
  const field = (label, input) => h('label', { class: 'field' }, h('span', {}, label), input);
  const name = h('input', { id: 'f-name', required: true, placeholder: 'web frontend' });
  const cn = h('input', { id: 'f-cn', required: true, placeholder: 'www.example.com' });
  const sans = h('input', { id: 'f-sans', placeholder: 'comma separated; the CN is added' });
  const issuer = h('select', { id: 'f-issuer', required: true });
  const policy = h('select', { id: 'f-policy', required: true });
  const owner = h('input', { id: 'f-owner', required: true, value: 'owner-default' });
  const team = h('input', { id: 'f-team', required: true, value: 'team-default' });
  const env = h('input', { id: 'f-env', placeholder: 'production' });
  const status = h('div');
  const fill = async () => {
    try {
      const [issuers, policies] = await Promise.all([all('/api/v1/issuers'), all('/api/v1/renewal-policies')]);
      mount(issuer, issuers.map((i) => h('option', { value: i.id }, `${i.name ?? i.id} (${i.id})`)));
      mount(policy, policies.map((p) => h('option', { value: p.id }, `${p.name ?? p.id} (${p.id})`)));
      if (!policies.length)
        mount(status, h('p', { class: 'notice notice-error' }, 'No renewal policy exists yet: an admin creates one under ', h('a', { href: '#/renewal-policies' }, 'Renewal policies'), ' first.'));
    } catch (e) {
      mount(status, notice(e.message));
    }
  };
  fill();
  return h(
    'form',
    {
      class: 'panel form',
      id: 'issue-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const list = sans.value.split(',').map((x) => x.trim()).filter(Boolean);
        if (!list.includes(cn.value.trim())) list.unshift(cn.value.trim());
        try {
          await api('/api/v1/certificates', {
            method: 'POST',
            body: { name: name.value.trim(), common_name: cn.value.trim(), sans: list, issuer_id: issuer.value, renewal_policy_id: policy.value, owner_id: owner.value.trim(), team_id: team.value.trim(), environment: env.value.trim() },
          });
          onDone();
        } catch (err) {
          mount(status, notice(err.message));
        }
      },
    },
    h('h2', {}, 'Issue a certificate'),
    h('div', { class: 'grid' }, field('Name', name), field('Common name', cn), field('SANs', sans), field('Issuer', issuer), field('Renewal policy', policy), field('Owner', owner), field('Team', team), field('Environment', env)),
    status,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'f-submit' }, 'Issue'), h('button', { type: 'button', onclick: onCancel }, 'Cancel')),
  );
}
