// attnc linear scan: attention linear_transformer, group linear_transformer, exclusive prefix over chunks
const SLOT: u32 = 4160u;

struct Params {
  slots: u32,
  total: u32,
  stBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> lin: array<f32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  // x = (b * KV_HEADS + kv head) * SLOT + word; the slots of one kv head are contiguous.
  let base = P.stBase + (x / SLOT) * P.slots * SLOT + x % SLOT;
  var running = 0.0;
  for (var c = 0u; c < P.slots; c++) {
    let a = base + c * SLOT;
    let s = lin[a];
    lin[a] = running;
    running += s;
  }
}
