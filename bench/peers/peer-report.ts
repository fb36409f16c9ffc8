// The line the speed target is read from: per N and kind (dense, causal), attnc's
// median against the faster peer's, as a speed ratio (peer time / attnc time: above 1 means
// attnc is faster; the target is 1, the goal 1.5).

import type { CaseResult } from '../harness.js';

const KINDS = ['dense', 'causal'] as const;
const PEERS = ['tfjs', 'ort'] as const;

export function formatPeerRatios(results: readonly CaseResult[]): string {
  const lines: string[] = [];
  const ns = [...new Set(results.map((r) => r.n))].sort((a, b) => a - b);
  for (const n of ns) {
    for (const kind of KINDS) {
      const atN = results.filter((r) => r.n === n);
      const peers = PEERS.map((p) => atN.find((r) => r.name === `${p}-${kind}`)).filter(
        (r): r is CaseResult => r !== undefined,
      );
      const attnc = atN.filter(
        (r) => r.name === `attnc-${kind}` || r.name.startsWith(`attnc-${kind}-`),
      );
      if (peers.length === 0 || attnc.length === 0) continue;
      const faster = peers.reduce((a, b) => (b.medianMs < a.medianMs ? b : a));
      const peerText = peers.map((p) => `${p.name} ${p.medianMs.toFixed(0)} ms`).join(', ');
      lines.push(`${kind} N=${n}: ${peerText}; faster peer ${faster.name}`);
      for (const a of attnc) {
        const ratio = faster.medianMs / a.medianMs;
        const verdict = ratio >= 1.5 ? 'goal met' : ratio >= 1 ? 'target met' : 'behind';
        lines.push(
          `  ${a.name} ${a.medianMs.toFixed(0)} ms: ${ratio.toFixed(2)}x the faster peer's ` +
            `speed (${verdict}; target 1x, goal 1.5x)`,
        );
      }
    }
  }
  return lines.length === 0 ? '' : ['attnc against the faster peer:', ...lines].join('\n');
}
