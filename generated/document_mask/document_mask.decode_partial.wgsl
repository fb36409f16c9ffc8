// attnc split-K decode, partial: attention document_mask, group document_mask
// mask leaves: band, segment
const D: u32 = 64u;
const DV: u32 = 64u;
const DW: u32 = 16u;
const DVW: u32 = 16u;
const HEADS: u32 = 16u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 16u;
const TOTAL_KV_HEADS: u32 = 16u;
const TQ: u32 = 64u;
const TK: u32 = 16u;
const REC: u32 = 17u;
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
  segQBase: u32,
  segKBase: u32,
  segRangesBase: u32,
  splits: u32,
  tilesPerSplit: u32,
  partBase: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> partbuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> auxbuf: array<u32>;

fn segKey(b: u32, j: u32) -> u32 { return auxbuf[P.segKBase + b * P.kvRows + select(P.ringPrefix + (j - P.ringPrefix) % P.ringSlots, j, j < P.ringPrefix)]; }

// Per-tile [min, max] segment ids (filled by the segment-ranges kernel) decide whole tiles.
fn segmentClass(kt: u32, pa: u32, pb: u32, b: u32, qt: u32) -> u32 {
  let qr = P.segRangesBase + (b * P.qTiles + qt) * 2u;
  let kr = P.segRangesBase + P.batch * P.qTiles * 2u + (b * P.kTiles + kt) * 2u;
  let qmin = auxbuf[qr]; let qmax = auxbuf[qr + 1u];
  let kmin = auxbuf[kr]; let kmax = auxbuf[kr + 1u];
  if (qmax < kmin || kmax < qmin) { return 0u; }
  if (qmin == qmax && kmin == kmax && qmin == kmin) { return 2u; }
  return 1u;
}

// 0: empty (skip), 1: partial (mask per element), 2: full (no mask).
fn classify(kt: u32, ja: u32, jb: u32, pa: u32, pb: u32, b: u32, qt: u32) -> u32 {
  let NK = i32(P.seqK);
  return min(select(select(1u, 2u, i32(jb) - i32(pa) <= 0i), 0u, i32(ja) - i32(pb) > 0i), segmentClass(kt, pa, pb, b, qt));
}

fn allowed(p: u32, j: u32, b: u32, segRow: u32) -> bool {
  return ((i32(j) - i32(p) <= 0i) && (segRow == segKey(b, j)));
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
  for (var d = 0u; d < DW; d++) { qrow[d] = qkvbuf[qRow + d] * 0.18033688; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  let segRow = auxbuf[P.segQBase + b * P.seqQ + row];
  // The row visits the key tiles of [0, prefix) and [lo, hi), as in the fused kernel;
  // the splits cut that list of visits (not the whole key range, so a ring step of a
  // long context costs its window), this invocation visits [first, end) of it, and the
  // last split takes whatever a loose visit range left over.
  let NK = i32(P.seqK);
  let prefixEnd = min(0u, P.seqK);
  let lo = u32(clamp(max(0i, 0i), 0i, NK));
  let hi = u32(clamp(min(i32(min(pb + 1u, u32(NK))), NK), 0i, NK));
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
    j++;
  }
  // The record: acc (DV floats), then the running max and sum (base 2).
  let rec = P.partBase + record * REC;
  for (var d = 0u; d < DVW; d++) { partbuf[rec + d] = acc[d]; }
  partbuf[rec + DVW] = vec4<f32>(m, l, 0.0, 0.0);
}
