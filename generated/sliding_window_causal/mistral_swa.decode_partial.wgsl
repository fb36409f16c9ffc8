// attnc split-K decode, partial: attention mistral_swa, group mistral_swa
// mask leaves: band
const D: u32 = 128u;
const DV: u32 = 128u;
const DW: u32 = 32u;
const DVW: u32 = 32u;
const HEADS: u32 = 32u;
const GROUP_SIZE: u32 = 4u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 32u;
const TOTAL_KV_HEADS: u32 = 8u;
const TQ: u32 = 64u;
const TK: u32 = 8u;
const REC: u32 = 33u;
const NEG_BIG: f32 = -3.0e38;

struct Params {
  batch: u32,
  seqQ: u32,
  seqK: u32,
  qTiles: u32,
  kTiles: u32,
  total: u32,
  qBase: u32,
  kBase: u32,
  vBase: u32,
  oBase: u32,
  splits: u32,
  tilesPerSplit: u32,
  partBase: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kbuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> vbuf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> partbuf: array<vec4<f32>>;

// 0: empty (skip), 1: partial (mask per element), 2: full (no mask).
fn classify(kt: u32, ja: u32, jb: u32, pa: u32, pb: u32, b: u32, qt: u32) -> u32 {
  let NK = i32(P.seqK);
  return select(select(1u, 2u, i32(ja) - i32(pb) >= -4096i && i32(jb) - i32(pa) <= 0i), 0u, i32(jb) - i32(pa) < -4096i || i32(ja) - i32(pb) > 0i);
}

fn allowed(p: u32, j: u32, b: u32, segRow: u32) -> bool {
  return (i32(j) - i32(p) >= -4096i && i32(j) - i32(p) <= 0i);
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  // x = (((b * HEADS / GROUP_SIZE + hkl) * seqQ + row) * splits + split) * GROUP_SIZE + g
  let g = x % GROUP_SIZE;
  let xs = x / GROUP_SIZE;
  let split = xs % P.splits;
  let r = xs / P.splits;
  let row = r % P.seqQ;
  let bk = r / P.seqQ;
  let hl = (bk % (HEADS / GROUP_SIZE)) * GROUP_SIZE + g;
  let b = bk / (HEADS / GROUP_SIZE);
  let h = HEAD_OFFSET + hl;
  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;
  let record = ((b * HEADS + hl) * P.seqQ + row) * P.splits + split;
  let p = row + P.seqK - P.seqQ;
  // The mask functions see a query tile of this one row (exact, never wider).
  let pa = p;
  let pb = p;
  let qt = row / TQ;
  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW;
  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;
  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;
  var qrow: array<vec4<f32>, DW>;
  var acc: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DW; d++) { qrow[d] = qbuf[qRow + d] * 0.12751743; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  let segRow = 0u;
  // The row visits the key tiles of [0, prefix) and [lo, hi), as in the fused kernel;
  // the splits cut that list of visits (not the whole key range, so a ring step of a
  // long context costs its window), this invocation visits [first, end) of it, and the
  // last split takes whatever a loose visit range left over.
  let NK = i32(P.seqK);
  let prefixEnd = min(0u, P.seqK);
  let lo = u32(clamp(i32(pa) - 4096i, 0i, NK));
  let hi = u32(clamp(i32(min(pb + 1u, u32(NK))), 0i, NK));
  let prefixTiles = (prefixEnd + TK - 1u) / TK;
  let bandFirst = max(prefixTiles, lo / TK);
  let bandEnd = max(bandFirst, (hi + TK - 1u) / TK);
  let rowVisits = prefixTiles + bandEnd - bandFirst;
  let splitFirst = min(split * P.tilesPerSplit, rowVisits);
  let splitEnd = min(splitFirst + P.tilesPerSplit, rowVisits);
  let visits = select(splitEnd, rowVisits, split + 1u == P.splits);
  var n = splitFirst;
  var j = 0u;
  var tileEnd = 0u;
  var masked = false;
  loop {
    if (j >= tileEnd) {
      if (n >= visits) { break; }
      let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);
      n++;
      j = kt * TK;
      let j1 = min(j + TK, P.seqK);
      let c = classify(kt, j, j1 - 1u, pa, pb, b, qt);
      // An empty tile ends where it starts, so the next pass steps on.
      tileEnd = select(j1, j, c == 0u);
      masked = c == 1u;
      continue;
    }
    if (masked) {
      if (!allowed(p, j, b, segRow)) { j++; continue; }
    }
    let slot = select(P.ringPrefix + (j - P.ringPrefix) % P.ringSlots, j, j < P.ringPrefix);
    let kRow = kBase0 + slot * DW;
    let vRow = vBase0 + slot * DVW;
    var s = 0.0;
    for (var d = 0u; d < DW; d++) { s += dot(qrow[d], kbuf[kRow + d]); }
    // Lazy rescale: only when the running max grows.
    if (s > m) {
      let c = exp2(m - s);
      l *= c;
      for (var d = 0u; d < DVW; d++) { acc[d] *= c; }
      m = s;
    }
    let w = exp2(s - m);
    l += w;
    for (var d = 0u; d < DVW; d++) { acc[d] += w * vbuf[vRow + d]; }
    j++;
  }
  // The record: acc (DV floats), then the running max and sum (base 2).
  let rec = P.partBase + record * REC;
  for (var d = 0u; d < DVW; d++) { partbuf[rec + d] = acc[d]; }
  partbuf[rec + DVW] = vec4<f32>(m, l, 0.0, 0.0);
}
