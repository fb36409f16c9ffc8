// attnc split-K decode, routed partial: attention routing_transformer, group routing_transformer
// mask leaves: band, band, cluster
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
const REC: u32 = 17u;

struct Params {
  batch: u32,
  seqQ: u32,
  seqK: u32,
  total: u32,
  splits: u32,
  splitKeys: u32,
  partBase: u32,
  qBase: u32,
  kBase: u32,
  vBase: u32,
  oBase: u32,
  r0Buckets: u32,
  r0Ranges: u32,
  r0Mu: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partbuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> auxbuf: array<vec4<u32>>;

fn auxAt(i: u32) -> u32 { return auxbuf[i >> 2u][i & 3u]; }

fn routedBucket0(q: array<vec4<f32>, DW>, hk: u32) -> u32 {
  var best = 0.0;
  var bucket = 0u;
  for (var t = 0u; t < 16u; t++) {
    let mu = P.r0Mu + (hk * 16u + t) * D;
    var s = 0.0;
    for (var d = 0u; d < D; d++) { s += q[d / 4u][d % 4u] * bitcast<f32>(auxAt(mu + d)); }
    if (t == 0u || s > best) { best = s; bucket = t; }
  }
  return bucket;
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  // x = ((b * HEADS + hl) * seqQ + i) * splits + split.
  let split = x % P.splits;
  let r = x / P.splits;
  let i = r % P.seqQ;
  let bh = r / P.seqQ;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hkl = hl / GROUP_SIZE;
  let hk = KV_HEAD_OFFSET + hkl;
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
  // routed leaf 0: cluster(16)
  let qb0 = routedBucket0(qrow, hk);
  let kb0 = P.r0Buckets + (b * HKVG + hkl) * P.kvRows;
  let rg0 = P.r0Ranges + ((b * HKVG + hkl) * 16u + qb0) * 2u;
  let first0 = auxAt(rg0);
  let end0 = first0 + auxAt(rg0 + 1u);
  for (var d = 0u; d < DW; d++) { qrow[d] *= 0.18033688; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  // Hull of the mask: every source is clipped to [clipLo, clipHi).
  // A split's keys: the hull within [split * splitKeys, (split + 1) * splitKeys).
  let splitLo = split * P.splitKeys;
  let clipLo = max(u32(clamp(max(0i, min(i32(pa) - 256i, 0i)), 0i, NK)), splitLo);
  let clipHi = min(u32(clamp(min(i32(min(pb + 1u, u32(NK))), max(i32(min(pb + 1u, u32(NK))), NK)), 0i, NK)), splitLo + P.splitKeys);
  // source 0: static range of band
  let pre0 = min(0u, P.seqK);
  let lo0 = max(u32(clamp(i32(pa) - 256i, 0i, NK)), pre0);
  let hi0 = max(u32(clamp(i32(min(pb + 1u, u32(NK))), 0i, NK)), lo0);
  for (var n = 0u; n < 2u; n++) {
    let ja = max(select(lo0, 0u, n == 0u), clipLo);
    let j1 = min(select(hi0, pre0, n == 0u), clipHi);
    for (var j = ja; j < j1; j++) {
      if (!((i32(j) - i32(p) <= 0i) && ((i32(j) - i32(p) >= -256i && i32(j) - i32(p) <= 0i) || (auxAt(kb0 + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)) == qb0)))) { continue; }
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
  }
  // source 1: routed leaf 0 (cluster(16))
  for (var e = first0; e < end0; e++) {
    let j = auxAt(e);
    // Lists are sorted by position.
    if (j >= clipHi) { break; }
    if (j < clipLo) { continue; }
    // Met by an earlier source.
    if ((j < pre0 || (j >= lo0 && j < hi0))) { continue; }
    if (!((i32(j) - i32(p) <= 0i) && ((i32(j) - i32(p) >= -256i && i32(j) - i32(p) <= 0i) || (auxAt(kb0 + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)) == qb0)))) { continue; }
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
  // The record: acc (DV floats), then the running max and sum (base 2).
  let rec = P.partBase + x * REC;
  for (var d = 0u; d < DVW; d++) { partbuf[rec + d] = acc[d]; }
  partbuf[rec + DVW] = vec4<f32>(m, l, 0.0, 0.0);
}
