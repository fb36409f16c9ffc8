// attnc lsh key buckets: [B, Hkv_g, Nk] u32
const D: u32 = 64u;
const HKVG: u32 = 8u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_KV_HEADS: u32 = 8u;
@group(0) @binding(1) var<storage, read> kbuf: array<f32>;
@group(0) @binding(2) var<storage, read_write> aux: array<u32>;
struct Params {
  seqK: u32,
  total: u32,
  kBase: u32,
  bucketBase: u32,
  rBase: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}
@group(0) @binding(0) var<uniform> P: Params;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  let j = x % P.seqK;
  let bh = x / P.seqK;
  let b = bh / HKVG;
  let hk = KV_HEAD_OFFSET + bh % HKVG;
  if (!(j < P.ringPrefix || (P.seqK - j) <= P.ringSlots)) { return; }
  let slot = select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix);
  var bestPos = 0.0;
  var argPos = 0u;
  var bestNeg = 0.0;
  var argNeg = 0u;
  for (var c = 0u; c < 16u; c++) {
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += kbuf[P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.kvRows + slot) * D + d] * bitcast<f32>(aux[P.rBase + d * 16u + c]); }
    if (c == 0u || s > bestPos) { bestPos = s; argPos = c; }
    if (c == 0u || -s > bestNeg) { bestNeg = -s; argNeg = c; }
  }
  let bucket = select(16u + argNeg, argPos, bestPos >= bestNeg);
  aux[P.bucketBase + bh * P.kvRows + slot] = bucket;
}
