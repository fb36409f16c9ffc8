// Text output of the benchmark: one row per (case, N), speed ratios of every case against
// the first case measured at the same N in the same run, and, for a case measured at several
// N, how its time grew (the linear-in-N targets).

import type { CaseResult } from './harness.js';

const COLUMNS = [
  ['case', 22],
  ['N', 6],
  ['D', 4],
  ['density', 8],
  ['median ms', 10],
  ['min ms', 10],
  ['wall ms', 10],
  ['GFLOP/s', 8],
  ['max |err|', 10],
] as const;

function row(cells: readonly string[]): string {
  return cells
    .map((cell, i) => {
      const width = COLUMNS[i]![1];
      return i === 0 ? cell.padEnd(width) : cell.padStart(width);
    })
    .join(' ');
}

export function formatResultsTable(results: readonly CaseResult[], withHeader = true): string {
  const lines = withHeader ? [row(COLUMNS.map(([title]) => title))] : [];
  for (const r of results) {
    lines.push(
      row([
        r.name,
        String(r.n),
        String(r.d),
        r.density.toFixed(3),
        r.medianMs.toFixed(2),
        r.minMs.toFixed(2),
        r.wallMedianMs.toFixed(2),
        r.gflops.toFixed(2),
        r.check ? r.check.maxAbsError.toExponential(1) : '-',
      ]),
    );
  }
  return lines.join('\n');
}

export function formatRatios(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  const byN = new Map<number, CaseResult[]>();
  for (const r of results) byN.set(r.n, [...(byN.get(r.n) ?? []), r]);
  for (const [n, group] of byN) {
    const [reference, ...others] = group;
    if (reference === undefined || others.length === 0) continue;
    lines.push(`ratios at N=${n}, against ${reference.name}:`);
    for (const r of others) {
      const speedup = reference.medianMs / r.medianMs;
      const rate = r.gflops / reference.gflops;
      lines.push(
        `  ${r.name}: ${speedup.toFixed(2)}x the speed (time), ${rate.toFixed(2)}x the GFLOP/s`,
      );
    }
  }
  return lines.join('\n');
}

/** Per case measured at several N: median time at each N over the time at the smallest. */
export function formatGrowth(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  const byName = new Map<string, CaseResult[]>();
  for (const r of results) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  for (const [name, group] of byName) {
    if (group.length < 2) continue;
    const sorted = [...group].sort((a, b) => a.n - b.n);
    const first = sorted[0]!;
    const steps = sorted
      .slice(1)
      .map((r) => `N=${r.n}: ${(r.medianMs / first.medianMs).toFixed(2)}x (N ${r.n / first.n}x)`);
    lines.push(`growth of ${name} from N=${first.n}: ${steps.join(', ')}`);
  }
  return lines.join('\n');
}
