// attnc low-rank: linformer projection, sum of chunks; attention linformer, group linformer
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
  elements: u32,
  chunks: u32,
  partialBase: u32,
  projectedBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> lowrank_buf: array<vec4<f32>>;

const RANK: u32 = 256u;
const ROW: u32 = 32u;

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
  let x = linear * WG + lid;
  if (x >= P.elements) { return; }
  // x indexes [B, KV_HEADS, RANK, ROW]; its chunk partials are RANK * ROW apart.
  let head = x / (RANK * ROW);
  let inHead = x % (RANK * ROW);
  let first = P.partialBase + head * P.chunks * RANK * ROW + inHead;
  var sum = vec4<f32>(0.0);
  for (var c = 0u; c < P.chunks; c++) { sum += lowrank_buf[first + c * RANK * ROW]; }
  lowrank_buf[P.projectedBase + x] = sum;
}
