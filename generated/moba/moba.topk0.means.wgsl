// attnc topk block means: [B, Hkv_g, ceil(Nk/512), D] f32 bits
const BLK: u32 = 512u;
const D: u32 = 128u;
const HKVG: u32 = 16u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_KV_HEADS: u32 = 16u;
@group(0) @binding(1) var<storage, read> kbuf: array<f32>;
@group(0) @binding(2) var<storage, read_write> aux: array<u32>;
struct Params {
  seqK: u32,
  nb: u32,
  total: u32,
  kBase: u32,
  tBase: u32,
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
  let d = x % D;
  let r = x / D;
  let t = r % P.nb;
  let bh = r / P.nb;
  let b = bh / HKVG;
  let hk = KV_HEAD_OFFSET + bh % HKVG;
  let j0 = t * BLK;
  let j1 = min(j0 + BLK, P.seqK);
  var s = 0.0;
  for (var j = j0; j < j1; j++) {
    let slot = select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix);
    s += kbuf[P.kBase + ((b * TOTAL_KV_HEADS + hk) * P.kvRows + slot) * D + d];
  }
  aux[P.tBase + x] = bitcast<u32>(s / f32(j1 - j0));
}
