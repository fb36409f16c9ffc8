// Every attnc kernel takes its run-time sizes and word offsets as one uniform struct of u32s,
// in the order of the kernel's uniform list (the host plan writes them in that order).

export function paramsStructLines(uniforms: readonly { readonly name: string }[]): string[] {
  return ['struct Params {', ...uniforms.map((u) => `  ${u.name}: u32,`), '}'];
}
