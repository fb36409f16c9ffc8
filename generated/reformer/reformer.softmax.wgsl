// attnc routed softmax: attention reformer, group reformer, one row per invocation
// mask leaves: lsh
const D: u32 = 64u;
const DW: u32 = 16u;
const DVW: u32 = 16u;
const HEADS: u32 = 8u;
const GROUP_SIZE: u32 = 1u;
const HKVG: u32 = 8u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 8u;
const TOTAL_KV_HEADS: u32 = 8u;
const TQ: u32 = 64u;
const NEG_BIG: f32 = -3.0e38;
const NONE: u32 = 0xffffffffu;

struct Params {
  batch: u32,
  seqQ: u32,
  seqK: u32,
  qTiles: u32,
  total: u32,
  qBase: u32,
  kBase: u32,
  vBase: u32,
  oBase: u32,
  r0Buckets: u32,
  r0Ranges: u32,
  r0R: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> obuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> auxbuf: array<vec4<u32>>;

fn auxAt(i: u32) -> u32 { return auxbuf[i >> 2u][i & 3u]; }

fn routedBucket0(q: array<vec4<f32>, DW>, hk: u32) -> u32 {
  var bestPos = 0.0;
  var argPos = 0u;
  var bestNeg = 0.0;
  var argNeg = 0u;
  for (var c = 0u; c < 16u; c++) {
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += q[d / 4u][d % 4u] * bitcast<f32>(auxAt(P.r0R + d * 16u + c)); }
    if (c == 0u || s > bestPos) { bestPos = s; argPos = c; }
    if (c == 0u || -s > bestNeg) { bestNeg = -s; argNeg = c; }
  }
  let bucket = select(16u + argNeg, argPos, bestPos >= bestNeg);
  return bucket;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let linear = wid.x + wid.y * nwg.x;
  if (linear >= P.total) { return; }
  let qt = linear % P.qTiles;
  let bh = linear / P.qTiles;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hkl = hl / GROUP_SIZE;
  let hk = KV_HEAD_OFFSET + hkl;
  let i = qt * TQ + lid;
  // No barriers in this kernel: an invocation past the rows returns.
  if (i >= P.seqQ) { return; }
  let p = i + P.seqK - P.seqQ;
  let pa = p;
  let pb = p;
  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + i) * DW;
  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + i) * DVW;
  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;
  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;
  let NK = i32(P.seqK);
  var qrow: array<vec4<f32>, DW>;
  var acc: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DW; d++) { qrow[d] = qkvbuf[qRow + d]; }
  // routed leaf 0: lsh(buckets: 32, seed: 7)
  let qb0 = routedBucket0(qrow, hk);
  let kb0 = P.r0Buckets + (b * HKVG + hkl) * P.kvRows;
  let rg0 = P.r0Ranges + ((b * HKVG + hkl) * 32u + qb0) * 2u;
  let first0 = auxAt(rg0);
  let end0 = first0 + auxAt(rg0 + 1u);
  for (var d = 0u; d < DW; d++) { qrow[d] *= 0.18033688; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  // Hull of the mask: every source is clipped to [clipLo, clipHi).
  let clipLo = u32(clamp(0i, 0i, NK));
  let clipHi = u32(clamp(NK, 0i, NK));
  // source 0: routed leaf 0 (lsh(buckets: 32, seed: 7))
  for (var e = first0; e < end0; e++) {
    let j = auxAt(e);
    // Lists are sorted by position.
    if (j >= clipHi) { break; }
    if (j < clipLo) { continue; }
    let slot = select(P.ringPrefix + (j - P.ringPrefix) % P.ringSlots, j, j < P.ringPrefix);
    let kRow = kBase0 + slot * DW;
    let vRow = vBase0 + slot * DVW;
    var s = 0.0;
    for (var d = 0u; d < DW; d++) { s += dot(qrow[d], qkvbuf[kRow + d]); }
    // Lazy rescale: only when the running max grows.
    if (s > m) {
      let c = exp2(m - s);
      l *= c;
      for (var d = 0u; d < DVW; d++) { acc[d] *= c; }
      m = s;
    }
    let w = exp2(s - m);
    l += w;
    for (var d = 0u; d < DVW; d++) { acc[d] += w * qkvbuf[vRow + d]; }
  }
  // A row with no allowed key gets 0, never 0/0.
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < DVW; d++) { obuf[oRow + d] = acc[d] * inv; }
}
