// attnc split-K decode, partial: attention bigbird, group bigbird
// mask leaves: band, band, random, segment
const D: u32 = 32u;
const DV: u32 = 32u;
const DW: u32 = 8u;
const DVW: u32 = 8u;
const HEADS: u32 = 4u;
const GROUP_SIZE: u32 = 2u;
const HEAD_OFFSET: u32 = 0u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_HEADS: u32 = 4u;
const TOTAL_KV_HEADS: u32 = 2u;
const TQ: u32 = 64u;
const TK: u32 = 32u;
const REC: u32 = 9u;
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
  random0Base: u32,
  random0PerBlock: u32,
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

// tanh from one exp of a non-positive argument: no overflow for |x| ~ 1e4.
fn tanhSafe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}

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

// random leaf 0: table of P.random0PerBlock sorted key blocks per query block.
fn randomHas0(p: u32, j: u32) -> bool {
  let base = P.random0Base + (p / 64u) * P.random0PerBlock;
  let kb = j / 64u;
  for (var t = 0u; t < P.random0PerBlock; t++) { if (auxbuf[base + t] == kb) { return true; } }
  return false;
}
fn randomClass0(ja: u32, jb: u32, pa: u32, pb: u32) -> u32 {
  let ka = ja / 64u; let kz = jb / 64u;
  var anyHit = false;
  var allHit = ka == kz;
  for (var qb = pa / 64u; qb <= pb / 64u; qb++) {
    let base = P.random0Base + qb * P.random0PerBlock;
    var hit = false;
    for (var t = 0u; t < P.random0PerBlock; t++) { let e = auxbuf[base + t]; hit = hit || (e >= ka && e <= kz); }
    anyHit = anyHit || hit;
    allHit = allHit && hit;
  }
  return select(select(1u, 2u, allHit), 0u, !anyHit);
}

// 0: empty (skip), 1: partial (mask per element), 2: full (no mask).
fn classify(kt: u32, ja: u32, jb: u32, pa: u32, pb: u32, b: u32, qt: u32) -> u32 {
  let NK = i32(P.seqK);
  return min(select(select(1u, 2u, i32(jb) - i32(pa) <= 0i), 0u, i32(ja) - i32(pb) > 0i), max(select(select(1u, 2u, i32(ja) - i32(pb) >= -4i && i32(jb) - i32(pa) <= 2i), 0u, i32(jb) - i32(pa) < -4i || i32(ja) - i32(pb) > 2i), min(randomClass0(ja, jb, pa, pb), segmentClass(kt, pa, pb, b, qt))));
}

fn allowed(p: u32, j: u32, b: u32, segRow: u32) -> bool {
  return ((i32(j) - i32(p) <= 0i) && ((i32(j) - i32(p) >= -4i && i32(j) - i32(p) <= 2i) || (randomHas0(p, j) && (segRow == segKey(b, j)))));
}

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  // x = ((b * HEADS / GROUP_SIZE + hkl) * seqQ + row) * splits + split
  let split = x % P.splits;
  let r = x / P.splits;
  let row = r % P.seqQ;
  let bk = r / P.seqQ;
  let hkl = bk % (HEADS / GROUP_SIZE);
  let b = bk / (HEADS / GROUP_SIZE);
  let hk = KV_HEAD_OFFSET + hkl;
  let recordStride = P.seqQ * P.splits;
  let record0 = (b * HEADS + hkl * GROUP_SIZE) * recordStride + row * P.splits + split;
  let p = row + P.seqK - P.seqQ;
  // The mask functions see a query tile of this one row (exact, never wider).
  let pa = p;
  let pb = p;
  let qt = row / TQ;
  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;
  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;
  var qrows: array<array<vec4<f32>, DW>, GROUP_SIZE>;
  var accs: array<array<vec4<f32>, DVW>, GROUP_SIZE>;
  var ms: array<f32, GROUP_SIZE>;
  var ls: array<f32, GROUP_SIZE>;
  var slopes: array<f32, GROUP_SIZE>;
  var krow: array<vec4<f32>, DW>;
  var vrow: array<vec4<f32>, DVW>;
  for (var g = 0u; g < GROUP_SIZE; g++) {
    let hl = hkl * GROUP_SIZE + g;
    let h = HEAD_OFFSET + hl;
    let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW;
    for (var d = 0u; d < DW; d++) { qrows[g][d] = qkvbuf[qRow + d] * 0.17677669; }
    for (var d = 0u; d < DVW; d++) { accs[g][d] = vec4<f32>(0.0); }
    ms[g] = NEG_BIG;
    ls[g] = 0.0;
    slopes[g] = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));
  }
  let segRow = auxbuf[P.segQBase + b * P.seqQ + row];
  // The row visits the key tiles of [0, prefix) and [lo, hi), as in the fused kernel;
  // the splits cut that list of visits (not the whole key range, so a ring step of a
  // long context costs its window), this invocation visits [first, end) of it, and the
  // last split takes whatever a loose visit range left over.
  let NK = i32(P.seqK);
  let prefixEnd = min(0u, P.seqK);
  let lo = u32(clamp(max(0i, min(i32(pa) - 4i, max(0i, 0i))), 0i, NK));
  let hi = u32(clamp(min(i32(min(pb + 1u, u32(NK))), max(i32(min(pb + 3u, u32(NK))), min(NK, NK))), 0i, NK));
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
    // One read of the key and value rows for all the query heads of this kv head.
    for (var d = 0u; d < DW; d++) { krow[d] = qkvbuf[kRow + d]; }
    for (var d = 0u; d < DVW; d++) { vrow[d] = qkvbuf[vRow + d]; }
    for (var g = 0u; g < GROUP_SIZE; g++) {
      let slope = slopes[g];
      var s = 0.0;
      for (var d = 0u; d < DW; d++) { s += dot(qrows[g][d], krow[d]); }
      s = 3e+1 * tanhSafe(s * 0.033333335);
      s -= slope * f32(abs(i32(p) - i32(j)));
      s *= 1.442695;
      // Lazy rescale: only when the running max grows.
      if (s > ms[g]) {
        let c = exp2(ms[g] - s);
        ls[g] *= c;
        for (var d = 0u; d < DVW; d++) { accs[g][d] *= c; }
        ms[g] = s;
      }
      let w = exp2(s - ms[g]);
      ls[g] += w;
      for (var d = 0u; d < DVW; d++) { accs[g][d] += w * vrow[d]; }
    }
    j++;
  }
  // The records: acc (DV floats), then the running max and sum (base 2).
  for (var g = 0u; g < GROUP_SIZE; g++) {
    let rec = P.partBase + (record0 + g * recordStride) * REC;
    for (var d = 0u; d < DVW; d++) { partbuf[rec + d] = accs[g][d]; }
    partbuf[rec + DVW] = vec4<f32>(ms[g], ls[g], 0.0, 0.0);
  }
}
