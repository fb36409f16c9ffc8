// Mixture of heads, language.md section 8: per query row, keep the k highest router logits
// (ties to the lower head) and weight each kept head by the softmax over the kept logits.

/**
 * The weight of every head for one query row: the softmax over the kept logits for the `k`
 * kept heads, 0 for the dropped ones.
 */
export function headRoutingWeights(logits: ArrayLike<number>, k: number): Float64Array {
  const heads = Array.from({ length: logits.length }, (_, h) => h);
  heads.sort((a, b) => (logits[b] as number) - (logits[a] as number) || a - b);
  const kept = heads.slice(0, Math.min(k, heads.length));
  const max = Math.max(...kept.map((h) => logits[h] as number));
  const weights = new Float64Array(logits.length);
  let sum = 0;
  for (const h of kept) {
    const e = Math.exp((logits[h] as number) - max);
    weights[h] = e;
    sum += e;
  }
  return weights.map((w) => w / sum);
}
