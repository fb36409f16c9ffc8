// `attnc bench --plot FILE.svg`: median time against N for every attention of the spec, each
// beside its dense softmax comparison (dashed, same colour), on log-log axes so that O(N) and
// O(N^2) read as straight lines of slope 1 and 2.

import type { BenchmarkResult } from '../api/benchmark.js';
import { escapeXml, line, num, rect, svgDocument, text } from './svg.js';

const PALETTE = ['#1d4ed8', '#dc2626', '#059669', '#7c3aed', '#d97706', '#0891b2', '#be185d'];
const WIDTH = 720;
const HEIGHT = 440;
const PLOT = { x: 70, y: 40, width: 440, height: 330 };

interface Series {
  readonly label: string;
  readonly color: string;
  readonly dashed: boolean;
  readonly points: readonly { n: number; ms: number }[];
}

export function benchPlot(results: readonly BenchmarkResult[], title: string): string {
  const series = seriesOf(results);
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) throw new Error('benchPlot: no results to plot');
  const xs = logAxis(points.map((p) => p.n));
  const ys = logAxis(points.map((p) => p.ms));
  const px = (n: number) => PLOT.x + xs.at(n) * PLOT.width;
  const py = (ms: number) => PLOT.y + PLOT.height - ys.at(ms) * PLOT.height;
  const body: string[] = [text(PLOT.x, 22, title, { size: 14, weight: 'bold', cls: 'title' })];
  body.push(rect(PLOT, 'none', 'stroke="#374151"'));
  // The measured N are the x ticks: a bench has a few, and they are what the reader looks up.
  const measured = [...new Set(points.map((p) => p.n))].sort((a, b) => a - b);
  for (const n of measured) {
    body.push(line(px(n), PLOT.y, px(n), PLOT.y + PLOT.height, '#e5e7eb'));
    body.push(
      text(px(n), PLOT.y + PLOT.height + 16, String(n), {
        size: 11,
        anchor: 'middle',
        cls: 'x-tick',
      }),
    );
  }
  for (const ms of ys.ticks) {
    body.push(line(PLOT.x, py(ms), PLOT.x + PLOT.width, py(ms), '#e5e7eb'));
    body.push(
      text(PLOT.x - 6, py(ms) + 4, formatMs(ms), { size: 11, anchor: 'end', cls: 'y-tick' }),
    );
  }
  body.push(
    text(PLOT.x + PLOT.width / 2, HEIGHT - 20, 'N (keys = queries), log scale', {
      size: 12,
      anchor: 'middle',
    }),
  );
  body.push(
    `<text x="18" y="${PLOT.y + PLOT.height / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 18 ${PLOT.y + PLOT.height / 2})">median ms, log scale</text>`,
  );
  series.forEach((s, k) => {
    const path = s.points
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${num(px(p.n))},${num(py(p.ms))}`)
      .join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    body.push(
      `<path class="series" data-label="${escapeXml(s.label)}" d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    for (const p of s.points) {
      body.push(`<circle cx="${num(px(p.n))}" cy="${num(py(p.ms))}" r="3" fill="${s.color}"/>`);
    }
    const ly = PLOT.y + 10 + k * 20;
    body.push(
      line(
        PLOT.x + PLOT.width + 16,
        ly,
        PLOT.x + PLOT.width + 40,
        ly,
        s.color,
        `stroke-width="2"${dash}`,
      ),
    );
    body.push(text(PLOT.x + PLOT.width + 46, ly + 4, s.label, { size: 12, cls: 'legend' }));
  });
  return svgDocument(WIDTH, HEIGHT, body);
}

/** One series per attention and one per its dense comparison, points in increasing N. */
function seriesOf(results: readonly BenchmarkResult[]): Series[] {
  const names = [...new Set(results.map((r) => r.name))];
  const out: Series[] = [];
  names.forEach((name, k) => {
    const rows = results.filter((r) => r.name === name).sort((a, b) => a.seqK - b.seqK);
    const color = PALETTE[k % PALETTE.length]!;
    out.push({
      label: name,
      color,
      dashed: false,
      points: rows.map((r) => ({ n: r.seqK, ms: r.timing.medianMs })),
    });
    const dense = rows.filter((r) => r.dense !== undefined);
    if (dense.length > 0) {
      out.push({
        label: `${name}: dense`,
        color,
        dashed: true,
        points: dense.map((r) => ({ n: r.seqK, ms: r.dense!.medianMs })),
      });
    }
  });
  return out;
}

/** A log10 axis over the values (padded, never empty): position in [0, 1] and tick values. */
function logAxis(values: readonly number[]): { at: (v: number) => number; ticks: number[] } {
  const positive = values.map((v) => Math.max(v, 1e-6));
  let lo = Math.log10(Math.min(...positive));
  let hi = Math.log10(Math.max(...positive));
  const pad = Math.max(0.05, (hi - lo) * 0.08);
  lo -= pad;
  hi += pad;
  const at = (v: number) => (Math.log10(Math.max(v, 1e-6)) - lo) / (hi - lo);
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (Math.log10(v) >= lo && Math.log10(v) <= hi) ticks.push(Number(v.toPrecision(3)));
    }
  }
  return { at, ticks };
}

function formatMs(ms: number): string {
  return ms >= 1 ? String(ms) : ms.toPrecision(2);
}
