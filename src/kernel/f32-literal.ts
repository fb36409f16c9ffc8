// f32 literals in emitted WGSL.

/** f32 literal that WGSL parses back to the same f32 (shortest round-trip decimal). */
export function f32Lit(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`internal error: non-finite literal ${x}`);
  let text = String(f);
  for (let digits = 1; digits <= 17; digits++) {
    const candidate = f.toPrecision(digits);
    if (Math.fround(Number(candidate)) === f) {
      text = candidate;
      break;
    }
  }
  if (!/[.eE]/.test(text)) text += '.0';
  return text;
}
