// Compile limits (E602): values the language accepts but the kernels cannot hold. Each limit
// exists because some WGSL construct is sized by the value: a private array per invocation
// (WGSL caps array counts at 65535, and GPUs spill big ones), or an f32 constant. They are
// checked before lowering so codegen never emits a kernel Tint rejects (a rejected kernel
// computes nothing, and its zero output could pass for tiny reference values).

import type { CheckedAttention, MaskNode } from '../check/checked.js';
import type { Span } from '../base/span.js';

/**
 * `head_routing` keeps four per-head private arrays in each select/scatter invocation and
 * loops `k x heads` per row. Past 128 heads those arrays dominate: llvmpipe took 2 s to build
 * the kernels at 64 heads, 9 s at 128 and 25 s at 256 (GPUs spill them to scratch memory).
 */
export const MAX_ROUTED_HEADS = 128;

/**
 * Each listed `global` position is a comparison in three places of the softmax kernel (the
 * visit range, the tile class and the per-key test): 70,000 positions made 24 MB of WGSL.
 * `global(first: g)` covers a prefix of any length in one comparison.
 */
export const MAX_GLOBAL_POSITIONS = 256;

/**
 * `scale` and `softcap` become f32 constants (`scale * log2(e)`, `1 / softcap`): between
 * these bounds every derived constant is a finite, normal f32.
 */
export const MIN_SCORE_CONSTANT = 1e-30;
export const MAX_SCORE_CONSTANT = 1e30;

/**
 * Kernel text one file may compile to. Each attention compiles to a bounded amount of WGSL,
 * but a 4 MiB file holds tens of thousands of attentions (400 MB of WGSL, 80 s, 2.4 GB):
 * compilation stops at the attention that passes this, which bounds time and memory.
 */
export const MAX_FILE_KERNEL_BYTES = 32 * 1024 * 1024;

export interface CompileLimit {
  /** What exceeds the limit, for the message: "`head_routing` over 2000 heads". */
  readonly message: string;
  /** The limit and why it exists, for the help line. */
  readonly note: string;
  readonly span: Span;
}

export function checkCompileLimits(checked: CheckedAttention): CompileLimit[] {
  const found: CompileLimit[] = [];
  if (checked.headRouting && checked.heads > MAX_ROUTED_HEADS) {
    found.push({
      message: `\`head_routing\` over ${checked.heads} heads exceeds the compile limit of ${MAX_ROUTED_HEADS} heads`,
      note: `the routing kernels keep one private array entry per head (at most ${MAX_ROUTED_HEADS} heads)`,
      span: checked.headRouting.span,
    });
  }
  for (const group of checked.groups) {
    const where = checked.declaredGroups ? ` in group \`${group.name}\`` : '';
    for (const node of globalNodes(group.mask)) {
      if (node.positions.length <= MAX_GLOBAL_POSITIONS) continue;
      found.push({
        message: `\`global\` with ${node.positions.length} positions${where} exceeds the compile limit of ${MAX_GLOBAL_POSITIONS} positions`,
        note: `each position is a comparison in the kernel; list at most ${MAX_GLOBAL_POSITIONS}, or use \`global(first: g)\` for the first g positions`,
        span: node.span,
      });
    }
    const constants: [string, number | undefined][] = [
      ['scale', group.scale],
      ['softcap', group.softcap],
    ];
    for (const [name, value] of constants) {
      if (value === undefined || (value >= MIN_SCORE_CONSTANT && value <= MAX_SCORE_CONSTANT))
        continue;
      found.push({
        message: `\`${name}\` ${value}${where} is outside the compile limit of ${MIN_SCORE_CONSTANT} to ${MAX_SCORE_CONSTANT}`,
        note: `the kernels compute in f32 and bake \`${name}\` into f32 constants, which hold ${MIN_SCORE_CONSTANT} to ${MAX_SCORE_CONSTANT}`,
        span: group.span,
      });
    }
  }
  return found;
}

function globalNodes(mask: MaskNode): Extract<MaskNode, { kind: 'global' }>[] {
  if (mask.kind === 'global') return [mask];
  if (mask.kind === 'union' || mask.kind === 'intersect') return mask.terms.flatMap(globalNodes);
  return [];
}
