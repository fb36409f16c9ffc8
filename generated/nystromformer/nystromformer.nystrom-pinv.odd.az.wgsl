// attnc low-rank: nystrom pseudo-inverse: odd iterations: AZ = A Z; attention nystromformer, group nystromformer
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
  landmarksBase: u32,
  valuesBase: u32,
  workBase: u32,
  mixedBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> lowrank_buf: array<f32>;

const M: u32 = 64u;
const D: u32 = 64u;
const DV: u32 = 64u;
const A: u32 = 0u;
const Z0: u32 = 4096u;
const Z1: u32 = 8192u;
const AZ: u32 = 12288u;
const T: u32 = 16384u;
const U: u32 = 20480u;
const rowSum: u32 = 24576u;
const colSum: u32 = 24640u;

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
  let x = tile * WG + lid;
  if (x >= 4096u) { return; }
  let work = P.workBase + bh * 24704u;
  let i = x / M;
  let j = x % M;
  var acc = 0.0;
  for (var k = 0u; k < M; k++) { acc += lowrank_buf[work + A + (i) * M + k] * (lowrank_buf[work + Z1 + (k) * M + j]); }
  lowrank_buf[work + AZ + x] = acc;
}
