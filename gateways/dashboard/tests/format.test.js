import { describe, expect, it } from 'vitest';
import { allows, auditCsv, endOfSecondIso, expiryBuckets, matchesSearch, sortBy } from '../src/format.js';

describe('format helpers', () => {
  it('searches name, common name, SANs and id, ignoring case', () => {
    const c = { id: 'mc-1', name: 'Shop', common_name: 'shop.example.test', sans: ['www.shop.test'] };
    expect(matchesSearch(c, 'SHOP')).toBe(true);
    expect(matchesSearch(c, 'www.shop')).toBe(true);
    expect(matchesSearch(c, 'mc-1')).toBe(true);
    expect(matchesSearch(c, 'other')).toBe(false);
    expect(matchesSearch(c, '  ')).toBe(true);
  });

  it('sorts ascending and descending with missing values last', () => {
    const rows = [{ k: 'b' }, { k: null }, { k: 'a' }];
    expect(sortBy(rows, 'k').map((r) => r.k)).toEqual(['a', 'b', null]);
    expect(sortBy(rows, '-k').map((r) => r.k)).toEqual(['b', 'a', null]);
  });

  it('buckets expiries by month, with the expired and the later ones apart, ignoring revoked', () => {
    const now = new Date('2026-12-03T00:00:00Z');
    const b = expiryBuckets(
      [
        { expires_at: '2026-11-01T00:00:00Z', status: 'Expired' },
        { expires_at: '2026-12-20T00:00:00Z', status: 'Active' },
        { expires_at: '2027-02-01T00:00:00Z', status: 'Active' },
        { expires_at: '2027-02-01T00:00:00Z', status: 'Revoked' },
        { expires_at: '2028-01-05T00:00:00Z', status: 'Active' },
      ],
      now,
      3,
    );
    expect(b.map((x) => [x.label, x.count])).toEqual([
      ['expired', 1],
      ['2026-12', 1],
      ['2027-01', 0],
      ['2027-02', 1],
      ['later', 1],
    ]);
  });

  it('orders roles viewer < operator < admin', () => {
    expect(allows('admin', 'operator')).toBe(true);
    expect(allows('operator', 'operator')).toBe(true);
    expect(allows('viewer', 'operator')).toBe(false);
    expect(allows('nobody', 'viewer')).toBe(false);
  });

  it('reads a picked second as all of that second', () => {
    process.env.TZ = 'UTC';
    expect(endOfSecondIso('2026-12-03T11:39:19')).toBe('2026-12-03T11:39:19.999999Z');
    expect(endOfSecondIso('')).toBe(null);
  });

  it('quotes CSV fields that need it', () => {
    const csv = auditCsv([{ position: 1, action: 'a,b', actor: 'say "hi"' }]);
    expect(csv.split('\r\n')[1]).toBe('1,,"say ""hi""","a,b",,,,');
  });
});
