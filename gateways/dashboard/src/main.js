// The shell: login, navigation (hash routes, so the server serves one index.html), the shared
// live stream, and the page in view.

import './style.css';
import { api, ApiError, setKey } from './api.js';
import { h, mount, notice } from './dom.js';
import { stream } from './sse.js';
import { overviewPage } from './pages/overview.js';
import { certificatesPage } from './pages/certificates.js';
import { jobsPage } from './pages/jobs.js';
import { auditPage } from './pages/audit.js';
import { clearLive, livePage } from './pages/live.js';
import { resourcePage } from './pages/resources.js';

const PAGES = [
  { path: 'overview', label: 'Overview', render: overviewPage },
  { path: 'certificates', label: 'Certificates', render: certificatesPage },
  { path: 'jobs', label: 'Jobs', render: jobsPage },
  { path: 'audit', label: 'Audit', render: auditPage },
  { path: 'live', label: 'Live events', render: livePage },
  { path: 'issuers', label: 'Issuers', render: resourcePage('issuers') },
  { path: 'profiles', label: 'Profiles', render: resourcePage('profiles') },
  { path: 'renewal-policies', label: 'Renewal policies', render: resourcePage('renewal-policies') },
  { path: 'agents', label: 'Agents', render: resourcePage('agents') },
];

const app = document.getElementById('app');
/** Who is signed in: {principal, role}; null on the login screen. */
let session = null;
/** The page's cleanup (stream listeners, timers), run when another page is shown. */
let cleanup = null;

function loginScreen(message) {
  const key = h('input', {
    type: 'password',
    id: 'api-key',
    name: 'api-key',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'API key',
    required: true,
  });
  const status = h('div', { class: 'login-status' }, message ? notice(message) : null);
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (e) => {
        e.preventDefault();
        await signIn(key.value.trim(), status);
      },
    },
    h('h1', {}, 'certctl'),
    h('p', { class: 'muted' }, 'Sign in with an API key. It is kept in this tab’s memory only: reloading signs you out.'),
    h('label', { for: 'api-key' }, 'API key'),
    key,
    h('button', { type: 'submit', class: 'primary', id: 'sign-in' }, 'Sign in'),
    status,
  );
  mount(app, h('main', { class: 'login-wrap' }, form));
  key.focus();
}

async function signIn(key, status) {
  setKey(key || null);
  try {
    const who = await api('/api/v1/auth/check');
    session = { principal: who.principal, role: who.role };
    const head = await api('/api/v1/events', { query: { limit: 1, after: 0 } });
    // The live view starts with a little history: the last 50 events before now.
    stream.start(Math.max(0, (head.head ?? 0) - 50));
    if (!location.hash || location.hash === '#/') location.hash = '#/overview';
    render();
  } catch (e) {
    setKey(null);
    const msg = e instanceof ApiError && e.status === 401 ? 'That key was not accepted.' : e.message;
    mount(status, notice(msg));
  }
}

function signOut() {
  stream.stop();
  clearLive();
  setKey(null);
  session = null;
  if (cleanup) cleanup();
  cleanup = null;
  loginScreen();
}

function shell(current) {
  const dot = h('span', { class: 'stream-dot', id: 'stream-state', title: 'live stream' });
  const offState = stream.onState((s) => {
    dot.dataset.state = s;
    dot.textContent = s === 'live' ? 'live' : s;
  });
  const nav = h(
    'nav',
    { class: 'nav', 'aria-label': 'Sections' },
    PAGES.map((p) =>
      h('a', { href: `#/${p.path}`, class: p.path === current ? 'active' : undefined, 'aria-current': p.path === current ? 'page' : undefined }, p.label),
    ),
  );
  const header = h(
    'header',
    { class: 'top' },
    h('a', { class: 'brand', href: '#/overview' }, 'certctl'),
    h('div', { class: 'who' }, dot, h('span', { class: 'principal' }, session.principal), h('span', { class: 'role' }, session.role), h('button', { class: 'link', id: 'sign-out', onclick: signOut }, 'Sign out')),
  );
  const main = h('main', { class: 'content', id: 'content' });
  mount(app, h('div', { class: 'layout' }, header, nav, main));
  return { main, offState };
}

function render() {
  if (!session) return loginScreen();
  if (cleanup) cleanup();
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const page = PAGES.find((p) => p.path === path) ?? PAGES[0];
  const { main, offState } = shell(page.path);
  const pageCleanup = page.render(main, { session, params: rest.map(decodeURIComponent) });
  cleanup = () => {
    offState();
    if (typeof pageCleanup === 'function') pageCleanup();
  };
}

window.addEventListener('hashchange', render);

// With authentication off (behind an authenticating proxy) there is no key to ask for.
api('/api/v1/auth/info')
  .then((info) => (info.required ? loginScreen() : signIn('', h('div'))))
  .catch(() => loginScreen());
