// The REST client. The API key lives only in this module's memory: never in localStorage,
// sessionStorage, cookies or URLs, so a reload signs out. Requests carry it as a bearer header
// and send no cookies (credentials: 'omit'); the server authenticates by header only, which is
// what makes the dashboard CSRF-safe (docs/dashboard.md).

let apiKey = null;
/**
 * The highest log position this tab has caused (a write's X-Certctl-Position) or seen (an event
 * on the live stream). Reads send it as X-Certctl-Wait-For-Position, so the server answers only
 * once its read models include it: a page never shows a state older than what the user just did
 * or just watched arrive.
 */
let seenPosition = 0;

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function setKey(key) {
  apiKey = key;
  seenPosition = 0;
}

/** Records a log position the tab knows about (see seenPosition). */
export function sawPosition(position) {
  const p = Number(position);
  if (Number.isSafeInteger(p) && p > seenPosition) seenPosition = p;
}

export function hasKey() {
  return apiKey !== null;
}

/** Authorization header for fetch(); empty when auth is off on the server. */
export function authHeaders() {
  return apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
}

/** Builds "/api/v1/x?a=1" from a path and a query object, leaving out empty values. */
export function url(path, query = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

async function send(path, { method = 'GET', body, query } = {}) {
  const headers = { ...authHeaders(), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method === 'GET' && seenPosition > 0) headers['X-Certctl-Wait-For-Position'] = String(seenPosition);
  let res;
  try {
    res = await fetch(url(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, `network error: ${e.message}`);
  }
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      if (j && j.error) message = j.error;
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(res.status, message);
  }
  if (method !== 'GET') sawPosition(res.headers.get('X-Certctl-Position'));
  return res;
}

/** JSON of a request (null for 204). */
export async function api(path, opts) {
  const res = await send(path, opts);
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** Every page of a paged list ({data,total,page,per_page}), up to `limit` items. */
export async function all(path, query = {}, limit = 5000) {
  const out = [];
  for (let page = 1; out.length < limit; page++) {
    const r = await api(path, { query: { ...query, page, per_page: 500 } });
    out.push(...r.data);
    if (r.data.length < 500 || out.length >= r.total) break;
  }
  return out.slice(0, limit);
}

/** Saves a response body as a file: the browser's download, from a blob (no URL holds the key). */
export async function download(path, fileName, opts) {
  const res = await send(path, opts);
  saveBlob(await res.blob(), fileName);
}

export function saveBlob(blob, fileName) {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10000);
}
