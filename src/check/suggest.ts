// "Did you mean" suggestions: the closest known name by edit distance, if it is close enough
// that the typo reading is more likely than a different intent.

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions (`haeds`). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The candidate closest to `name`, or undefined when none is within a third of its length. */
export function closestName<T extends string>(
  name: string,
  candidates: Iterable<T>,
): T | undefined {
  const lower = name.toLowerCase();
  let best: T | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    // A difference in case alone is always a typo.
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(name.length, 3) / 3));
  return bestDistance <= limit ? best : undefined;
}

/** A ready-made note, or undefined (the sink drops undefined notes). */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const best = closestName(name, candidates);
  return best === undefined ? undefined : `did you mean \`${best}\`?`;
}
