// The expiration timeline: an inline SVG bar chart drawn from counts (no chart library).

import { s } from './dom.js';

export function barChart(buckets, { height = 160 } = {}) {
  const barW = 36;
  const gap = 10;
  const top = 18;
  const bottom = 30;
  const width = buckets.length * (barW + gap) + gap;
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const plot = height - top - bottom;
  return s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${width} ${height}`,
      preserveAspectRatio: 'xMidYMid meet',
      role: 'img',
      'aria-label': 'Certificates expiring per month',
    },
    s('line', { x1: 0, x2: width, y1: top + plot, y2: top + plot, class: 'axis' }),
    buckets.map((b, i) => {
      const x = gap + i * (barW + gap);
      const bh = Math.round((b.count / max) * plot);
      return s(
        'g',
        {},
        s('title', {}, `${b.label}: ${b.count}`),
        s('rect', { x, y: top + plot - bh, width: barW, height: Math.max(bh, b.count ? 2 : 0), class: b.expired ? 'bar bar-expired' : 'bar', rx: 3 }),
        s('text', { x: x + barW / 2, y: top + plot - bh - 4, class: 'bar-value', 'text-anchor': 'middle' }, b.count ? String(b.count) : ''),
        s('text', { x: x + barW / 2, y: height - 10, class: 'bar-label', 'text-anchor': 'middle' }, b.expired ? 'past' : b.label === 'later' ? 'later' : b.label.slice(2)),
      );
    }),
  );
}
