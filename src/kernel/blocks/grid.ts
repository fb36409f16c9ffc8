// Grid decoding, written once for every kernel: the flat index of this invocation (or
// workgroup) from a dispatch the host may have folded into two dimensions when the count
// passes maxComputeWorkgroupsPerDimension (compile.ts's `fold`), and the early return past
// the kernel's bound. The renderer and the verifier both read these statements.

import { add, BlockBuilder, block, ge, member, mul, paren, u32, uniform } from '../build.js';
import type { Grid, Stmt } from '../ir.js';

export function gridStatements(grid: Grid, workgroupSize: number): readonly Stmt[] {
  if (grid.kind === 'single-workgroup') return [];
  return block((b: BlockBuilder) => {
    if (grid.comment !== undefined) b.comment(grid.comment);
    const workgroup = add(member('wid', 'x'), mul(member('wid', 'y'), member('nwg', 'x')));
    const index =
      grid.kind === 'invocation'
        ? b.let(grid.index, add(mul(paren(workgroup), u32(workgroupSize)), 'lid'))
        : b.let(grid.index, workgroup);
    const bound = grid.bound;
    if (bound !== null)
      b.if(ge(index, uniform(bound)), (t) => t.return(), undefined, { oneLine: true });
  });
}
