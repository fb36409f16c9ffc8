// attnc routed softmax: attention moba, group moba, one row per invocation
// mask leaves: band, topk
const D: u32 = 128u;
const DW: u32 = 32u;
const DVW: u32 = 32u;
const HEADS: u32 = 16u;
const GROUP_SIZE: u32 = 1u;
const HKVG: u32 = 16u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 16u;
const TOTAL_KV_HEADS: u32 = 16u;
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
  r0Means: u32,
  r0Blocks: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> obuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> auxbuf: array<vec4<u32>>;

fn auxAt(i: u32) -> u32 { return auxbuf[i >> 2u][i & 3u]; }

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
  // routed leaf 0: topk(3, block: 512) causal
  var sel0: array<u32, 3>;
  var sco0: array<f32, 3>;
  for (var x = 0u; x < 3u; x++) { sel0[x] = NONE; sco0[x] = 0.0; }
  let own0 = p / 512u;
  // Causal: the blocks before the own block.
  let cands0 = own0;
  for (var t = 0u; t < cands0; t++) {
    if (t == own0) { continue; }
    let mb = P.r0Means + ((b * HKVG + hkl) * P.r0Blocks + t) * D;
    var s = 0.0;
    for (var d = 0u; d < DW; d++) { s += dot(qrow[d], bitcast<vec4<f32>>(auxbuf[(mb >> 2u) + d])); }
    // Strictly greater: ties keep the lower block, as the reference.
    var pos = 3u;
    while (pos > 0u && (sel0[pos - 1u] == NONE || s > sco0[pos - 1u])) {
      pos--;
    }
    if (pos < 3u) {
      for (var x = 2u; x > pos; x--) {
        sel0[x] = sel0[x - 1u];
        sco0[x] = sco0[x - 1u];
      }
      sel0[pos] = t;
      sco0[pos] = s;
    }
  }
  for (var d = 0u; d < DW; d++) { qrow[d] *= 0.12751743; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  // Hull of the mask: every source is clipped to [clipLo, clipHi).
  let clipLo = u32(clamp(max(0i, 0i), 0i, NK));
  let clipHi = u32(clamp(min(i32(min(pb + 1u, u32(NK))), NK), 0i, NK));
  // source 0: routed leaf 0 (topk(3, block: 512) causal)
  for (var x = 0u; x <= 3u; x++) {
    let blk = select(sel0[max(x, 1u) - 1u], own0, x == 0u);
    if (blk == NONE) { continue; }
    let ja = max(blk * 512u, clipLo);
    let j1 = min(min(blk * 512u + 512u, P.seqK), clipHi);
    for (var j = ja; j < j1; j++) {
      if (!((i32(j) - i32(p) <= 0i) && ((j / 512u) == own0 || (j / 512u) == sel0[0u] || (j / 512u) == sel0[1u] || (j / 512u) == sel0[2u]))) { continue; }
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
  // A row with no allowed key gets 0, never 0/0.
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < DVW; d++) { obuf[oRow + d] = acc[d] * inv; }
}
