// attnc linear output: attention linear_transformer, group linear_transformer, phi elu1, causal (prefix state + own chunk)
const W: u32 = 4u;
const D: u32 = 64u;
const DV: u32 = 64u;
const DPHI: u32 = 64u;
const DW: u32 = 16u;
const DVW: u32 = 16u;
const DPHIW: u32 = 16u;
// One state slot in vectors: S (DPHI rows of DVW) then z (DPHIW).
const SLOT: u32 = 1040u;
const ZOFF: u32 = 1024u;
const C: u32 = 64u;
const F: u32 = 32u;
const FW: u32 = 8u;
const HEADS: u32 = 8u;
const KV_HEADS: u32 = 8u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 8u;
const TOTAL_KV_HEADS: u32 = 8u;
const EPS: f32 = 0.000001;

struct Params {
  seqQ: u32,
  seqK: u32,
  slots: u32,
  tiles: u32,
  total: u32,
  qBase: u32,
  oBase: u32,
  stBase: u32,
  featureRows: u32,
  kBase: u32,
  vBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> lin: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> obuf: array<vec4<f32>>;

// phi(k) of the chunk, F features each: kf[r * FW + fw].
var<workgroup> kf: array<vec4<f32>, C * FW>;

fn ldQ(e: u32) -> vec4<f32> { return qkvbuf[P.qBase + e]; }
fn ldK(e: u32) -> vec4<f32> { return qkvbuf[P.kBase + e]; }
fn ldV(e: u32) -> vec4<f32> { return qkvbuf[P.vBase + e]; }

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let linear = wid.x + wid.y * nwg.x;
  if (linear >= P.total) { return; }
  let tile = linear % P.tiles;
  let bh = linear / P.tiles;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hkl = hl / GROUP_SIZE;
  let offset = P.seqK - P.seqQ;
  let chunk = offset / C + tile;
  let ja = chunk * C;
  let p = ja + lid;
  let hasQuery = p >= offset && p < P.seqK;
  let i = min(select(0u, p - offset, p >= offset), P.seqQ - 1u);
  let st = P.stBase + ((b * KV_HEADS + hkl) * P.slots + chunk) * SLOT;
  let hk = KV_HEAD_OFFSET + hkl;
  let n = min(C, P.seqK - ja);
  // Keys ja + r with r <= lid are at or before p; invocations without a query score none.
  let rEnd = select(0u, lid + 1u, hasQuery);
  let krow = ((b * TOTAL_KV_HEADS + hk) * P.seqK + ja + min(lid, n - 1u)) * DW;
  let qrow = ((b * TOTAL_HEADS + h) * P.seqQ + i) * DW;
  var acc: array<vec4<f32>, DVW>;
  var den = 0.0;
  var qf: array<vec4<f32>, FW>;
  var scores: array<f32, C>;
  for (var t0w = 0u; t0w < DPHIW; t0w += FW) {
    for (var fw = 0u; fw < P.featureRows; fw++) {
      let t = t0w + fw;
      let x = ldQ(qrow + t);
      qf[fw] = select(exp(x), x + 1.0, x > vec4<f32>(0.0));
    }
    if (lid < n) {
      for (var fw = 0u; fw < P.featureRows; fw++) {
        let t = t0w + fw;
        let x = ldK(krow + t);
        kf[lid * FW + fw] = select(exp(x), x + 1.0, x > vec4<f32>(0.0));
      }
    }
    workgroupBarrier();
    // The state of the keys before this chunk (causal) or of all keys.
    for (var fw = 0u; fw < P.featureRows; fw++) {
      let t = t0w + fw;
      let w = qf[fw];
      den += dot(w, lin[st + ZOFF + t]);
      let srow = st + t * 4u * DVW;
      for (var d = 0u; d < DVW; d++) {
        acc[d] += w.x * lin[srow + d] + w.y * lin[srow + DVW + d] + w.z * lin[srow + 2u * DVW + d] + w.w * lin[srow + 3u * DVW + d];
      }
    }
    for (var r = 0u; r < rEnd; r++) {
      var s = 0.0;
      for (var fw = 0u; fw < FW; fw++) { s += dot(qf[fw], kf[r * FW + fw]); }
      scores[r] += s;
    }
    workgroupBarrier();
  }
  // The own chunk, exactly: keys ja .. p, scored over every feature block above.
  for (var r = 0u; r < rEnd; r++) {
    let s = scores[r];
    den += s;
    let vrow = ((b * TOTAL_KV_HEADS + hk) * P.seqK + ja + r) * DVW;
    for (var d = 0u; d < DVW; d++) { acc[d] += s * ldV(vrow + d); }
  }
  if (!hasQuery) { return; }
  let orow = ((b * TOTAL_HEADS + h) * P.seqQ + i) * DVW;
  let inv = 1.0 / (den + EPS);
  for (var d = 0u; d < DVW; d++) { obuf[P.oBase + orow + d] = acc[d] * inv; }
}
