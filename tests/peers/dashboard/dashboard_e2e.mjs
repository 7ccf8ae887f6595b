// Drives the dashboard in headless Debian Chromium against a real certctl-server (started like
// tests/integration/server_process.cpp does: temp data dir, port 0, named keys, server keygen,
// loopback only): sign in, issue a certificate, see one appear live, revoke it, pick a past
// instant and see the old state, check the viewer role's view, and check screenshots of the
// inventory and the audit "as of" view for layout breaks at a desktop and a phone size.
// Run by run_e2e.sh, which sets the CERTCTL_E2E_* variables.

import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';

const env = process.env;
const require = createRequire(path.join(env.CERTCTL_E2E_WEB, 'package.json'));
const { chromium } = require('playwright-core');

const ADMIN = 'e2e-admin-key-0123456789abcdef';
const VIEWER = 'e2e-viewer-key-0123456789abcdef';
const VIEWPORTS = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];
const updateDocs = process.argv.includes('--update-screenshots');
const started = Date.now();
let server;
let browser;

function log(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

function check(cond, msg) {
  if (!cond) throw new Error(`check failed: ${msg}`);
}

/** Starts certctl-server and resolves with {port, ca} once it prints its address. */
function startServer() {
  const data = path.join(env.CERTCTL_E2E_WORK, 'data');
  const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('CERTCTL_')));
  Object.assign(childEnv, {
    CERTCTL_DATA_DIR: data,
    CERTCTL_SERVER_HOST: '127.0.0.1',
    CERTCTL_SERVER_PORT: '0',
    CERTCTL_KEYGEN_MODE: 'server',
    CERTCTL_API_KEYS_NAMED: `admin:${ADMIN}:admin,auditor:${VIEWER}:viewer`,
    CERTCTL_DASHBOARD_DIR: env.CERTCTL_E2E_DIST,
  });
  server = spawn(env.CERTCTL_E2E_SERVER, [], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30000);
    const onData = (chunk) => {
      out += chunk;
      const m = out.match(/listening on https:\/\/127\.0\.0\.1:(\d+)/);
      if (m && out.includes('CA bundle:')) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), ca: fs.readFileSync(path.join(data, 'ca-bundle.pem')) });
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

/** A JSON request to the server with the admin key (Node's fetch cannot take a CA). */
function request(srv, method, p, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: srv.port, path: p, method, ca: srv.ca, headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode >= 400 ? reject(new Error(`${method} ${p}: ${res.statusCode} ${text}`)) : resolve(text ? JSON.parse(text) : null)));
      },
    );
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Horizontal overflow and overlaps of the key elements: the layout-break check. */
async function layoutProblems(page, keySelectors) {
  return page.evaluate((selectors) => {
    const problems = [];
    const vw = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth > vw + 1) problems.push(`page scrolls horizontally: ${document.documentElement.scrollWidth} > ${vw}`);
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    // Every visible element outside a horizontal scroller must lie within the viewport.
    for (const el of document.querySelectorAll('body *')) {
      if (!visible(el) || el.closest('.table-wrap, .json, svg')) continue;
      const r = el.getBoundingClientRect();
      if (r.left < -1 || r.right > vw + 1) {
        problems.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} spans ${Math.round(r.left)}..${Math.round(r.right)} of ${vw}`);
        if (problems.length > 5) break;
      }
    }
    // Tables fit their scroller at these sizes (narrow screens drop columns instead).
    for (const w of document.querySelectorAll('.table-wrap'))
      if (w.scrollWidth > w.clientWidth + 1) problems.push(`a table is wider than its box: ${w.scrollWidth} > ${w.clientWidth}`);
    // Key regions (siblings, not a region and its parts) must not overlap one another.
    const boxes = selectors.flatMap((s) => [...document.querySelectorAll(s)].filter(visible).map((el) => ({ s, el, r: el.getBoundingClientRect() })));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        if (boxes[i].el.contains(boxes[j].el) || boxes[j].el.contains(boxes[i].el)) continue;  // nesting is not overlap
        const a = boxes[i].r;
        const b = boxes[j].r;
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) problems.push(`${boxes[i].s} overlaps ${boxes[j].s}`);
      }
    return problems;
  }, keySelectors);
}

async function shoot(page, name, keySelectors) {
  fs.mkdirSync(env.CERTCTL_E2E_OUT, { recursive: true });
  const file = path.join(env.CERTCTL_E2E_OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const problems = await layoutProblems(page, keySelectors);
  check(problems.length === 0, `layout of ${name}:\n  ${problems.join('\n  ')}`);
  log(`screenshot ${file}: layout ok`);
  return file;
}

async function signIn(page, base, key) {
  await page.goto(`${base}/`);
  await page.fill('#api-key', key);
  await page.click('#sign-in');
  await page.waitForSelector('#stream-state[data-state="live"]');
}

async function main() {
  const srv = await startServer();
  const base = `https://127.0.0.1:${srv.port}`;
  log(`server on ${base}`);

  browser = await chromium.launch({
    executablePath: env.CERTCTL_CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // No --user-data-dir: launch() gives every run a fresh, empty profile of its own.
  });
  // The server's certificate comes from its own fresh CA; trusting it is this loopback test's only shortcut.
  const context = await browser.newContext({ ignoreHTTPSErrors: true, timezoneId: 'UTC', viewport: VIEWPORTS[0], acceptDownloads: true });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const cspViolations = [];
  page.on('console', (m) => m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()) && cspViolations.push(m.text()));
  page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
  page.on('dialog', (d) => d.accept());

  // The shell is served with the strict policy.
  const index = await page.goto(`${base}/`);
  const headers = index.headers();
  check(headers['content-security-policy']?.startsWith("default-src 'self'"), 'CSP on index.html');
  check(headers['content-security-policy'].includes("frame-ancestors 'none'"), 'frame-ancestors none');
  check(headers['x-content-type-options'] === 'nosniff', 'nosniff');

  // Log in: a wrong key is refused, the right one signs in and opens the live stream.
  await page.fill('#api-key', 'not-a-key');
  await page.click('#sign-in');
  await page.waitForSelector('.login .notice-error');
  await page.fill('#api-key', ADMIN);
  await page.click('#sign-in');
  await page.waitForSelector('#stream-state[data-state="live"]');
  check(await page.evaluate(() => localStorage.length === 0 && sessionStorage.length === 0 && document.cookie === ''), 'the key is kept in memory only');
  log('signed in');

  // A fresh server has no renewal policy: the admin creates one, as a first-time user would.
  await page.goto(`${base}/#/renewal-policies`);
  await page.click('#new-policy');
  await page.fill('#rp-id', 'rp-standard');
  await page.fill('#rp-name', 'Standard');
  await page.click('#rp-submit');
  await page.waitForSelector('main.content td:has-text("rp-standard")');

  // Issue a certificate through the form; the server issues it (server keygen).
  await page.goto(`${base}/#/certificates`);
  await page.click('#new-certificate');
  await page.fill('#f-name', 'shop');
  await page.fill('#f-cn', 'shop.example.test');
  await page.fill('#f-env', 'production');
  await page.waitForSelector('#f-policy option[value="rp-standard"]', { state: 'attached' });
  await page.click('#f-submit');
  const shopRow = page.locator('#cert-list tr[data-status="Active"]', { hasText: 'shop.example.test' });
  await shopRow.waitFor();
  const shopId = await shopRow.getAttribute('data-id');
  log(`issued ${shopId}`);

  // Seen live: a certificate created elsewhere (the API) appears without any click or reload.
  await request(srv, 'POST', '/api/v1/certificates', { name: 'api', common_name: 'api.example.test', sans: ['api.example.test'], issuer_id: 'iss-local', renewal_policy_id: 'rp-standard', owner_id: 'o-1', team_id: 't-1', environment: 'staging' });
  await page.locator('#cert-list tr[data-status="Active"]', { hasText: 'api.example.test' }).waitFor();
  log('a certificate issued through the API appeared live');

  // Search, filter and sort work on the inventory.
  await page.fill('#cert-search', 'shop');
  check((await page.locator('#cert-list tbody tr').count()) === 1, 'search narrows to one row');
  await page.fill('#cert-search', '');
  await page.selectOption('#cert-sort', 'name');
  check((await page.locator('#cert-list tbody tr').first().getAttribute('data-id')) !== shopId, 'sort by name puts "api" first');
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await shoot(page, `inventory-${vp.name}`, ['header.top', 'nav.nav', 'main.content', '.toolbar', '#cert-list']);
  }
  if (updateDocs) await page.setViewportSize(VIEWPORTS[0]);
  if (updateDocs) await page.screenshot({ path: path.join(env.CERTCTL_E2E_ROOT, 'docs/images/dashboard-inventory.png') });
  await page.setViewportSize(VIEWPORTS[0]);

  // Renew the other one from its detail view: a second version appears.
  const apiId = await page.locator('#cert-list tr', { hasText: 'api.example.test' }).getAttribute('data-id');
  await page.goto(`${base}/#/certificates/${encodeURIComponent(apiId)}`);
  await page.waitForSelector('tr[data-action="certificate.issued"]');
  await page.click('#renew');
  await page.waitForFunction(() => document.querySelectorAll('tr[data-action="certificate.issued"]').length === 2);
  log(`renewed ${apiId}`);

  // The issuance instant: from the certificate's own history in the detail view.
  await page.goto(`${base}/#/certificates/${encodeURIComponent(shopId)}`);
  await page.waitForSelector('tr[data-action="certificate.issued"]');
  check((await page.locator('#cert-actions #revoke').count()) === 1, 'admin sees Revoke');
  const audit = await request(srv, 'GET', `/api/v1/audit?resource_type=certificate&resource_id=${shopId}&action=certificate.issued`);
  const issuedAt = new Date(audit.data[0].timestamp);
  // The picker has one-second resolution: make sure the revocation lands in a later second.
  await new Promise((r) => setTimeout(r, 1100));

  // Revoke it through the UI; the detail follows the stream.
  await page.selectOption('#revoke-reason', 'superseded');
  await page.click('#revoke');
  await page.waitForSelector('tr[data-action="certificate.revoked"]');
  await page.waitForSelector('#cert-title .pill-revoked');
  log('revoked');
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await shoot(page, `detail-${vp.name}`, ['header.top', 'nav.nav', 'main.content', '#cert-actions', 'dl.kv']);
  }
  await page.setViewportSize(VIEWPORTS[0]);

  // Audit: chain intact; the inventory as of the issuance second shows the old state.
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('#chain-status.chain-ok');
  // The picker names a second and means all of it, so the issuance's own second shows it issued.
  const pick = new Date(Math.floor(issuedAt.getTime() / 1000) * 1000);
  await page.fill('#asof-input', pick.toISOString().slice(0, 19));
  await page.click('#asof-show');
  await page.locator(`#asof-result tr[data-id="${shopId}"][data-status="Active"]`).waitFor();
  check((await page.locator('#asof-result tr[data-status="Revoked"]').count()) === 0, 'nothing revoked back then');
  log(`as of ${pick.toISOString()}: ${shopId} was Active`);
  for (const vp of VIEWPORTS) {
    await page.setViewportSize(vp);
    await shoot(page, `audit-asof-${vp.name}`, ['header.top', 'nav.nav', 'main.content', '#chain', '#asof']);
  }
  await page.setViewportSize(VIEWPORTS[0]);
  if (updateDocs) await page.locator('#asof').screenshot({ path: path.join(env.CERTCTL_E2E_ROOT, 'docs/images/dashboard-audit-as-of.png') });
  // And now: revoked.
  await page.fill('#asof-input', new Date(Date.now() + 2000).toISOString().slice(0, 19));
  await page.click('#asof-show');
  await page.locator(`#asof-result tr[data-id="${shopId}"][data-status="Revoked"]`).waitFor();

  // The live view saw the revocation.
  await page.goto(`${base}/#/live`);
  await page.locator(`#live-list tr[data-type="certificate.revoked"][data-stream="certificate-${shopId}"]`).waitFor();
  await page.setViewportSize(VIEWPORTS[1]);
  await shoot(page, 'live-phone', ['header.top', 'nav.nav', 'main.content', '#live-list']);
  await page.setViewportSize(VIEWPORTS[0]);

  // The other pages render from the API without errors.
  await page.goto(`${base}/#/overview`);
  await page.waitForSelector('#summary .card');
  await page.waitForSelector('svg.chart');
  check(await page.evaluate(() => [...document.querySelectorAll('svg.chart rect.bar')].some((r) => Number(r.getAttribute('height')) > 0)), 'the expiry chart has a bar');
  await shoot(page, 'overview-desktop', ['header.top', 'nav.nav', 'main.content', '#summary']);
  await page.goto(`${base}/#/jobs`);
  await page.locator('main.content tr', { hasText: 'Completed' }).first().waitFor();
  for (const [hash, text] of [['issuers', 'iss-local'], ['renewal-policies', 'rp-standard'], ['profiles', ''], ['agents', '']]) {
    await page.goto(`${base}/#/${hash}`);
    await page.waitForSelector(text ? `main.content td:has-text("${text}")` : 'main.content .empty, main.content table');
  }

  // Export from the audit page downloads the filtered timeline.
  await page.goto(`${base}/#/audit`);
  await page.waitForSelector('#audit-timeline tr[data-action]');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  check(exported.some((e) => e.action === 'certificate.revoked' && e.resource_id === shopId), 'export holds the revocation');

  // The timeline filters: only the revocation matches its event type.
  await page.fill('#a-action', 'certificate.revoked');
  await page.dispatchEvent('#a-action', 'change');
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#audit-timeline tr[data-action]')];
    return rows.length === 1 && rows[0].dataset.action === 'certificate.revoked';
  });


  // Sign out clears the session; a viewer sees no write actions.
  await page.click('#sign-out');
  await page.waitForSelector('#api-key');
  await signIn(page, base, VIEWER);
  await page.goto(`${base}/#/certificates`);
  await page.waitForSelector('#cert-list tr[data-id]');
  check((await page.locator('#new-certificate').count()) === 0, 'viewer cannot issue');
  await page.goto(`${base}/#/certificates/${encodeURIComponent(shopId)}`);
  await page.waitForSelector('#export-pem');
  check((await page.locator('#revoke, #renew, #export-p12').count()) === 0, 'viewer has no write actions');

  // Tampering shows: stop the server, change one stored payload, start it again on the same data.
  const stopped = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  await stopped;
  const db = path.join(env.CERTCTL_E2E_WORK, 'data', 'certctl.db');
  // The store's triggers refuse UPDATE on the log; an attacker with file access drops them first
  // (the server re-creates them on start), which is exactly what the chain must still reveal.
  const tamper = "BEGIN IMMEDIATE; DROP TRIGGER events_no_update; " +
    "UPDATE events SET payload = replace(payload, 'Standard', 'Tampered') WHERE type = 'renewal_policy.created'; COMMIT; " +
    "SELECT position FROM events WHERE type = 'renewal_policy.created';";
  const tampered = execFileSync('sqlite3', [db, tamper], { encoding: 'utf8' }).trim();
  const again = await startServer();
  const base2 = `https://127.0.0.1:${again.port}`;
  await signIn(page, base2, VIEWER);
  await page.goto(`${base2}/#/audit`);
  const broken = await page.locator('#chain-status.chain-bad').textContent();
  check(broken.includes(`position ${tampered}`), `the audit page names the tampered position ${tampered}: "${broken}"`);
  log(`tampering at position ${tampered} shown: ${broken}`);

  check(cspViolations.length === 0, `no CSP violations or page errors:\n  ${cspViolations.join('\n  ')}`);
  log('all checks passed');
}

let code = 0;
let failurePage = null;
try {
  await main();
} catch (e) {
  console.error(e.stack ?? e);
  code = 1;
  // What the browser showed when it failed, for the CI log's reader.
  const pages = browser ? browser.contexts().flatMap((c) => c.pages()) : [];
  failurePage = path.join(env.CERTCTL_E2E_OUT, 'failure.png');
  if (pages.length) await pages[0].screenshot({ path: failurePage, fullPage: true }).then(() => console.error(`screenshot of the failure: ${failurePage}`), () => {});
} finally {
  if (browser) await browser.close().catch(() => {});
  // Wait for the server to finish before run_e2e.sh removes its data dir; SIGKILL if it hangs.
  if (server && server.exitCode === null && server.signalCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }
}
process.exit(code);
