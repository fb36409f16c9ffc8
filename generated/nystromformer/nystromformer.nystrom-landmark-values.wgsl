// attnc low-rank: nystrom landmark values: 64 query landmarks over every key; attention nystromformer, group nystromformer
const DW: u32 = 16u;
const DVW: u32 = 16u;
const HEADS: u32 = 8u;
const KV_HEADS: u32 = 8u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 8u;
const TOTAL_KV_HEADS: u32 = 8u;
const WG: u32 = 64u;

struct Params {
  total: u32,
  rowTiles: u32,
  rows: u32,
  seqK: u32,
  kBase: u32,
  vBase: u32,
  landmarksBase: u32,
  valuesBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> k_buf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> lowrank_buf: array<vec4<f32>>;

const M: u32 = 64u;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  // Dispatches fold (batch, head, tile) into up to two dimensions.
  let linear = wid.x + wid.y * nwg.x;
  if (linear >= P.total) { return; }
  let tile = linear % P.rowTiles;
  let bh = linear / P.rowTiles;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hkl = hl / GROUP_SIZE;
  let hk = KV_HEAD_OFFSET + hkl;
  let row = tile * WG + lid;
  if (row >= P.rows) { return; }
  let qRow = P.landmarksBase + ((b * HEADS + hl) * M + row) * 2u * DW;
  let oRow = P.valuesBase + ((b * HEADS + hl) * M + row) * DVW;
  // q pre-scaled by scale * log2(e): the softmax runs in exp2.
  var qv: array<vec4<f32>, DW>;
  var acc: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DW; d++) { qv[d] = lowrank_buf[qRow + d] * 0.18033688; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = -3.0e38;
  var l = 0.0;
  let keys = P.seqK;
  for (var j = 0u; j < keys; j++) {
    let kRow = P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.seqK + j) * DW;
    let vRow = P.vBase + ((b * TOTAL_KV_HEADS + hk) * P.seqK + j) * DVW;
    var s = 0.0;
    for (var d = 0u; d < DW; d++) { s += dot(qv[d], k_buf[kRow + d]); }
    // Lazy rescale: only when the running max grows (the first key rescales 0 by 0).
    // (Two or four keys per step were 20-40% slower on llvmpipe.)
    if (s > m) {
      let c = exp2(m - s);
      l *= c;
      for (var d = 0u; d < DVW; d++) { acc[d] *= c; }
      m = s;
    }
    let w = exp2(s - m);
    l += w;
    for (var d = 0u; d < DVW; d++) { acc[d] += w * v_buf[vRow + d]; }
  }
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < DVW; d++) { lowrank_buf[oRow + d] = acc[d] * inv; }
}
