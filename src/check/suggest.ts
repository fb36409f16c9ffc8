// "Did you mean" suggestions: the closest known name by edit distance, if it is close enough
// that the typo reading is more likely than a different intent.
//
// Names come from untrusted files, so the search is bounded: a name longer than
// MAX_SUGGESTED_NAME gets no suggestion (no known name is within a third of its length), and
// the distance is computed only up to the accepted limit, so each comparison costs
// O(limit * length) with both lengths at most MAX_SUGGESTED_NAME. The distance is written here
// rather than taken from a library because it counts a swap of neighbours (`haeds`) as one
// edit and stops early; fastest-levenshtein, say, does neither.

/** Longer names get no suggestion. Known names are at most a dozen characters. */
export const MAX_SUGGESTED_NAME = 64;

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), or
 * `bound + 1` as soon as it is known to exceed `bound`.
 */
export function editDistance(a: string, b: string, bound = Infinity): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  const cols = b.length + 1;
  // Three rows (the transposition looks two rows back), reused across calls: an unknown
  // name is compared with every known one, and a file can hold a hundred thousand of them.
  if (rows.length < 3 * cols) rows = new Int32Array(3 * cols);
  let before = 0;
  let previous = cols;
  let current = 2 * cols;
  for (let j = 0; j < cols; j++) rows[previous + j] = j;
  let previousMin = 0;
  for (let i = 1; i <= a.length; i++) {
    rows[current] = i;
    let rowMin = i;
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        rows[previous + j]! + 1,
        rows[current + j - 1]! + 1,
        rows[previous + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[before + j - 2]! + 1);
      }
      rows[current + j] = best;
      rowMin = Math.min(rowMin, best);
    }
    // Costs never shrink along an alignment, and every alignment passes through one of any
    // two neighbouring rows (a transposition skips one): past the bound in both, done.
    if (rowMin > bound && previousMin > bound) return bound + 1;
    previousMin = rowMin;
    [before, previous, current] = [previous, current, before];
  }
  return Math.min(rows[previous + b.length]!, bound + 1);
}

/** editDistance's rows, one after another. */
let rows = new Int32Array(3 * 16);

/** The candidate closest to `name`, or undefined when none is within a third of its length. */
export function closestName<T extends string>(
  name: string,
  candidates: Iterable<T>,
): T | undefined {
  if (name.length > MAX_SUGGESTED_NAME) return undefined;
  const lower = name.toLowerCase();
  const limit = Math.max(1, Math.floor(Math.max(name.length, 3) / 3));
  let best: T | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    // A difference in case alone is always a typo.
    const distance =
      candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate, bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** A ready-made note, or undefined (the sink drops undefined notes). */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  return didYouMeanNote(closestName(name, candidates));
}

/** didYouMean's note for a candidate already found. */
export function didYouMeanNote(best: string | undefined): string | undefined {
  return best === undefined ? undefined : `did you mean \`${best}\`?`;
}
