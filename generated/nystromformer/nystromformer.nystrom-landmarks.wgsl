// attnc low-rank: nystrom landmarks (segment means); attention nystromformer, group nystromformer
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
  tiles: u32,
  seqQ: u32,
  seqK: u32,
  qBase: u32,
  kBase: u32,
  landmarksBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> q_buf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> k_buf: array<vec4<f32>>;
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
  let tile = linear % P.tiles;
  let bh = linear / P.tiles;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;
  let t = tile * WG + lid;
  if (t >= M) { return; }
  var sum: array<vec4<f32>, DW>;
  let out = P.landmarksBase + ((b * HEADS + hl) * M + t) * 2u * DW;
  // Segment t of N rows: [floor(t N / M), floor((t + 1) N / M)); the runtime checks N >= M.
  for (var d = 0u; d < DW; d++) { sum[d] = vec4<f32>(0.0); }
  let qa = t * P.seqQ / M;
  let qb = (t + 1u) * P.seqQ / M;
  for (var n = qa; n < qb; n++) {
    let r = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + n) * DW;
    for (var d = 0u; d < DW; d++) { sum[d] += q_buf[r + d]; }
  }
  for (var d = 0u; d < DW; d++) { lowrank_buf[out + d] = sum[d] / f32(qb - qa); }
  for (var d = 0u; d < DW; d++) { sum[d] = vec4<f32>(0.0); }
  let ka = t * P.seqK / M;
  let kb = (t + 1u) * P.seqK / M;
  for (var n = ka; n < kb; n++) {
    let r = P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.seqK + n) * DW;
    for (var d = 0u; d < DW; d++) { sum[d] += k_buf[r + d]; }
  }
  for (var d = 0u; d < DW; d++) { lowrank_buf[out + DW + d] = sum[d] / f32(kb - ka); }
}
