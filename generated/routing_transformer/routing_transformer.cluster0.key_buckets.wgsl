// attnc cluster key buckets: [B, Hkv_g, Nk] u32
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
  centroidsBase: u32,
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
  var best = 0.0;
  var bucket = 0u;
  for (var t = 0u; t < 16u; t++) {
    let mu = P.centroidsBase + (hk * 16u + t) * D;
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += kbuf[P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.kvRows + slot) * D + d] * bitcast<f32>(aux[mu + d]); }
    if (t == 0u || s > best) { best = s; bucket = t; }
  }
  aux[P.bucketBase + bh * P.kvRows + slot] = bucket;
}
