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

/**
 * The same f32 with a mantissa and an exponent, the mantissa with a fraction and the exponent
 * without `+` (`-3.0e38`, `1.5e-7`): shortest round-trip digits, as `f32Lit`.
 */
export function f32ScientificLit(x: number): string {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw new Error(`internal error: non-finite literal ${x}`);
  let text = f.toExponential();
  for (let digits = 0; digits <= 16; digits++) {
    const candidate = f.toExponential(digits);
    if (Math.fround(Number(candidate)) === f) {
      text = candidate;
      break;
    }
  }
  const [mantissa, exponent] = text.split('e') as [string, string];
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${Number(exponent)}`;
}
