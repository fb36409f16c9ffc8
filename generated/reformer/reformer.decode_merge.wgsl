// attnc split-K decode, merge: attention reformer, group reformer
const D: u32 = 64u;
const DV: u32 = 64u;
const DW: u32 = 16u;
const DVW: u32 = 16u;
const HEADS: u32 = 8u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 8u;
const TOTAL_KV_HEADS: u32 = 8u;
const TQ: u32 = 64u;
const TK: u32 = 16u;
const REC: u32 = 17u;
const NEG_BIG: f32 = -3.0e38;

struct Params {
  seqQ: u32,
  total: u32,
  splits: u32,
  partBase: u32,
  oBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> partbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> obuf: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  // x = (b * HEADS + hl) * seqQ + row, whose records are x * splits + split.
  let row = x % P.seqQ;
  let bh = x / P.seqQ;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DVW;
  let first = P.partBase + x * P.splits * REC;
  var m = NEG_BIG;
  for (var s = 0u; s < P.splits; s++) { m = max(m, partbuf[first + s * REC + DVW].x); }
  var acc: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var l = 0.0;
  for (var s = 0u; s < P.splits; s++) {
    let rec = first + s * REC;
    // A split with no allowed key has l = 0 and acc = 0: it adds nothing.
    let c = exp2(partbuf[rec + DVW].x - m);
    l += c * partbuf[rec + DVW].y;
    for (var d = 0u; d < DVW; d++) { acc[d] += c * partbuf[rec + d]; }
  }
  // A row with no allowed key gets 0, never 0/0.
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < DVW; d++) { obuf[oRow + d] = acc[d] * inv; }
}
