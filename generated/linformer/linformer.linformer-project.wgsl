// attnc low-rank: linformer projection, one key chunk; attention linformer, group linformer
const DW: u32 = 16u;
const DVW: u32 = 16u;
const HEADS: u32 = 12u;
const KV_HEADS: u32 = 12u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 12u;
const TOTAL_KV_HEADS: u32 = 12u;
const WG: u32 = 64u;

struct Params {
  total: u32,
  tiles: u32,
  chunks: u32,
  seqK: u32,
  kBase: u32,
  vBase: u32,
  eBase: u32,
  fBase: u32,
  partialBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> k_buf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v_buf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> ef_buf: array<f32>;
@group(0) @binding(4) var<storage, read_write> lowrank_buf: array<vec4<f32>>;

const RANK: u32 = 256u;
const CHUNK: u32 = 256u;
const MAX_SEQ: u32 = 4096u;
const ROW_TILES: u32 = 4u;

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
  let hkl = bh % KV_HEADS;
  let b = bh / KV_HEADS;
  let hk = KV_HEAD_OFFSET + hkl;
  let c = tile / ROW_TILES;
  let t = (tile % ROW_TILES) * WG + lid;
  if (t >= RANK) { return; }
  var accK: array<vec4<f32>, DW>;
  var accV: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DW; d++) { accK[d] = vec4<f32>(0.0); }
  for (var d = 0u; d < DVW; d++) { accV[d] = vec4<f32>(0.0); }
  let eRow = P.eBase + (hk * RANK + t) * MAX_SEQ;
  let fRow = P.fBase + (hk * RANK + t) * MAX_SEQ;
  let n0 = c * CHUNK;
  let n1 = min(n0 + CHUNK, P.seqK);
  // (Four keys per step, sharing accumulator loads, was ~25% slower on llvmpipe.)
  for (var n = n0; n < n1; n++) {
    let e = ef_buf[eRow + n];
    let f = ef_buf[fRow + n];
    let kRow = P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.seqK + n) * DW;
    let vRow = P.vBase + ((b * TOTAL_KV_HEADS + hk) * P.seqK + n) * DVW;
    for (var d = 0u; d < DW; d++) { accK[d] += e * k_buf[kRow + d]; }
    for (var d = 0u; d < DVW; d++) { accV[d] += f * v_buf[vRow + d]; }
  }
  // Partial row t of chunk c: [B, KV_HEADS, chunks, RANK, DW + DVW].
  let out = P.partialBase + (((b * KV_HEADS + hkl) * P.chunks + c) * RANK + t) * (DW + DVW);
  for (var d = 0u; d < DW; d++) { lowrank_buf[out + d] = accK[d]; }
  for (var d = 0u; d < DVW; d++) { lowrank_buf[out + DW + d] = accV[d]; }
}
