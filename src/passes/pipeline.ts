// The pass pipeline, in order, on one screen. Each pass is a named pure function
// Attention -> Attention; `runPipeline` can stop after any of them (`attnc explain --after`)
// and can run the verifier after each one (tests always do).

import type { Attention } from '../ir/ir.js';
import { verifyAttention } from '../ir/verify.js';
import { canonicalizeMask } from './canonicalize-mask.js';
import { fuseLinear } from './fuse-linear.js';
import { fuseLowRank } from './fuse-lowrank.js';
import { fuseSoftmax } from './fuse-softmax.js';
import { planBlocks, type PassContext } from './plan-blocks.js';

export type { PassContext } from './plan-blocks.js';

export interface Pass {
  readonly name: string;
  readonly run: (attention: Attention, context: PassContext) => Attention;
}

export const PIPELINE: readonly Pass[] = [
  { name: 'canonicalize-mask', run: (a) => canonicalizeMask(a) },
  { name: 'plan-blocks', run: (a, c) => planBlocks(a, c) },
  { name: 'fuse-lowrank', run: (a, c) => fuseLowRank(a, c) },
  { name: 'fuse-softmax', run: (a) => fuseSoftmax(a) },
  { name: 'fuse-linear', run: (a, c) => fuseLinear(a, c) },
];

export const PASS_NAMES: readonly string[] = PIPELINE.map((p) => p.name);

export interface PipelineOptions {
  /** Stop after this pass (`'lower'` stops before the first pass). */
  readonly after?: string;
  /** Run the IR verifier after lowering and after every pass; throws on the first problem. */
  readonly verify?: boolean;
}

export function runPipeline(
  attention: Attention,
  context: PassContext,
  options: PipelineOptions = {},
): Attention {
  const after = options.after;
  if (after !== undefined && after !== 'lower' && !PASS_NAMES.includes(after)) {
    throw new Error(`unknown pass '${after}'; passes are: lower, ${PASS_NAMES.join(', ')}`);
  }
  const check = (ir: Attention, stage: string) => {
    if (!options.verify) return;
    const problems = verifyAttention(ir, stage);
    if (problems.length > 0) {
      throw new Error(`IR verifier failed after ${stage}:\n  ${problems.join('\n  ')}`);
    }
  };
  check(attention, 'lower');
  if (after === 'lower') return attention;
  let ir = attention;
  for (const pass of PIPELINE) {
    ir = pass.run(ir, context);
    check(ir, pass.name);
    if (pass.name === after) break;
  }
  return ir;
}
