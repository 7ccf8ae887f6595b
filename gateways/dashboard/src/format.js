// Pure helpers (no DOM): formatting, filtering, sorting, the chart's buckets. Unit-tested.

/** "2026-12-03 11:33:58 UTC" from an RFC 3339 string; "" for none. */
export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** Days from `now` until `iso` (negative when past), or null. */
export function daysUntil(iso, now = Date.now()) {
  if (!iso) return null;
  return Math.floor((new Date(iso).getTime() - now) / 86400000);
}

/** A datetime-local input's value (local wall time, seconds optional) as RFC 3339 UTC. */
export function localInputToIso(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * The last instant of the second a datetime-local value names, as RFC 3339 UTC: "as of 11:39:19"
 * includes everything that happened during that second (events carry microseconds).
 */
export function endOfSecondIso(value) {
  const iso = localInputToIso(value);
  return iso ? iso.replace(/\.\d{3}Z$/, '.999999Z') : null;
}

/** An instant as a datetime-local value in local time, to the second. */
export function isoToLocalInput(iso) {
  const d = new Date(iso);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(
    d.getMinutes(),
  )}:${p(d.getSeconds())}`;
}

/** Case-insensitive search over a certificate's name, common name, SANs, id and serial. */
export function matchesSearch(cert, text) {
  const q = (text ?? '').trim().toLowerCase();
  if (!q) return true;
  const fields = [cert.id, cert.name, cert.common_name, cert.serial_number, ...(cert.sans ?? [])];
  return fields.some((f) => f && String(f).toLowerCase().includes(q));
}

/** Sorts a copy by `key` ("-key" for descending); missing values go last either way. */
export function sortBy(rows, key) {
  const desc = key.startsWith('-');
  const k = desc ? key.slice(1) : key;
  return [...rows].sort((a, b) => {
    const x = a[k];
    const y = b[k];
    if (x == null && y == null) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    const c = String(x).localeCompare(String(y), undefined, { numeric: true });
    return desc ? -c : c;
  });
}

/**
 * Expiry counts per month for the next `months` months starting with the month of `now`,
 * plus the ones already expired and the ones expiring later: [{label, count, expired?}].
 */
export function expiryBuckets(certs, now = new Date(), months = 12) {
  const buckets = [{ label: 'expired', count: 0, expired: true }];
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  for (let i = 0; i < months; i++) {
    const d = new Date(start);
    d.setUTCMonth(d.getUTCMonth() + i);
    buckets.push({ label: d.toISOString().slice(0, 7), count: 0 });
  }
  buckets.push({ label: 'later', count: 0 });
  for (const c of certs) {
    if (!c.expires_at || c.status === 'Revoked' || c.status === 'Archived') continue;
    const t = new Date(c.expires_at);
    if (t.getTime() < now.getTime()) {
      buckets[0].count++;
      continue;
    }
    const idx = (t.getUTCFullYear() - now.getUTCFullYear()) * 12 + t.getUTCMonth() - now.getUTCMonth();
    if (idx >= 0 && idx < months) buckets[idx + 1].count++;
    else if (idx >= months) buckets[months + 1].count++;
  }
  return buckets;
}

/** Roles in order; a user may do what needs `need` when their role is at least that. */
const ROLES = ['viewer', 'operator', 'admin'];
export function allows(role, need) {
  return ROLES.indexOf(role) >= ROLES.indexOf(need) && ROLES.includes(role);
}

/** Audit rows as CSV (RFC 4180 quoting), for export. */
export function auditCsv(rows) {
  const cols = ['position', 'timestamp', 'actor', 'action', 'resource_type', 'resource_id', 'source_address', 'correlation_id'];
  const q = (v) => {
    const t = v == null ? '' : String(v);
    return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => q(r[c])).join(','))].join('\r\n') + '\r\n';
}
