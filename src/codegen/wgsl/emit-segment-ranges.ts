// Emits the kernel that reduces `seg_q` and `seg_k` to per-tile [min, max] segment ids: the
// compact table the softmax kernel classifies `segment` tiles with (disjoint ranges: empty;
// one shared id: full). One invocation per (batch, tile), O(N) work in all.

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { EmittedKernel } from './emitted-kernel.js';
import { paramsStructLines } from './params-struct.js';

const WORKGROUP = 64;

export function emitSegmentRangesKernel(
  queryTile: number,
  keyTile: number,
  aux: { readonly name: string; readonly binding: number },
  arrays: { readonly segQ: SizeExpr; readonly segK: SizeExpr; readonly ranges: SizeExpr },
): EmittedKernel {
  const qTiles = size.ceilDiv('seqQ', queryTile);
  const kTiles = size.ceilDiv('seqK', keyTile);
  const uniforms = [
    { name: 'batch', value: 'batch' as SizeExpr },
    { name: 'seqQ', value: 'seqQ' as SizeExpr },
    { name: 'seqK', value: 'seqK' as SizeExpr },
    { name: 'qTiles', value: qTiles },
    { name: 'kTiles', value: kTiles },
    { name: 'total', value: size.mul('batch', size.add(qTiles, kTiles)) },
    { name: 'segQBase', value: arrays.segQ },
    { name: 'segKBase', value: arrays.segK },
    { name: 'rangesBase', value: arrays.ranges },
  ];
  const wgsl = `// attnc segment tile ranges: [B][qTiles] then [B][kTiles] pairs (min, max)
const TQ: u32 = ${queryTile}u;
const TK: u32 = ${keyTile}u;

${paramsStructLines(uniforms).join('\n')}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(${aux.binding}) var<storage, read_write> ${aux.name}: array<u32>;

@compute @workgroup_size(${WORKGROUP})
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;
  if (x >= P.total) { return; }
  let nq = P.batch * P.qTiles;
  var lo = 0xffffffffu;
  var hi = 0u;
  if (x < nq) {
    let b = x / P.qTiles;
    let t = x % P.qTiles;
    for (var i = t * TQ; i < min(t * TQ + TQ, P.seqQ); i++) {
      let s = ${aux.name}[P.segQBase + b * P.seqQ + i];
      lo = min(lo, s);
      hi = max(hi, s);
    }
  } else {
    let y = x - nq;
    let b = y / P.kTiles;
    let t = y % P.kTiles;
    for (var j = t * TK; j < min(t * TK + TK, P.seqK); j++) {
      let s = ${aux.name}[P.segKBase + b * P.seqK + j];
      lo = min(lo, s);
      hi = max(hi, s);
    }
  }
  ${aux.name}[P.rangesBase + x * 2u] = lo;
  ${aux.name}[P.rangesBase + x * 2u + 1u] = hi;
}
`;
  return { wgsl, workgroupSize: WORKGROUP, uniforms };
}
