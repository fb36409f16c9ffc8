// attnc fused softmax: attention bigbird, group bigbird, variant tiled
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
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> obuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> auxbuf: array<u32>;

var<workgroup> kTile: array<vec4<f32>, 256>;
var<workgroup> vTile: array<vec4<f32>, 256>;
// Tile-level values pass through workgroupUniformLoad so barriers sit in uniform control flow.
var<workgroup> wgClass: u32;
var<workgroup> wgFirst: u32;
var<workgroup> wgSecond: u32;
var<workgroup> wgEnd: u32;

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
  // Dispatches fold (batch, head, query tile) into up to two dimensions.
  let linear = wid.x + wid.y * nwg.x;
  if (linear >= P.total) { return; }
  let qt = linear % P.qTiles;
  let bh = linear / P.qTiles;
  let hl = bh % HEADS;
  let b = bh / HEADS;
  let h = HEAD_OFFSET + hl;
  let hk = KV_HEAD_OFFSET + hl / GROUP_SIZE;
  let offset = P.seqK - P.seqQ;
  let i = qt * TQ + lid;
  let row = min(i, P.seqQ - 1u);
  let p = row + offset;
  let pa = qt * TQ + offset;
  let pb = min(qt * TQ + TQ, P.seqQ) - 1u + offset;
  let qRow = P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW;
  let oRow = P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DVW;
  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;
  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;
  var qrow: array<vec4<f32>, DW>;
  var acc: array<vec4<f32>, DVW>;
  for (var d = 0u; d < DW; d++) { qrow[d] = qkvbuf[qRow + d] * 0.17677669; }
  for (var d = 0u; d < DVW; d++) { acc[d] = vec4<f32>(0.0); }
  var m = NEG_BIG;
  var l = 0.0;
  let slope = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));
  let segRow = auxbuf[P.segQBase + b * P.seqQ + row];
  // Visit only the key tiles of [0, prefix) and [lo, hi) (closed forms of the mask).
  let NK = i32(P.seqK);
  let prefixEnd = min(0u, P.seqK);
  let lo = u32(clamp(max(0i, min(i32(pa) - 4i, max(0i, 0i))), 0i, NK));
  let hi = u32(clamp(min(i32(min(pb + 1u, u32(NK))), max(i32(min(pb + 3u, u32(NK))), min(NK, NK))), 0i, NK));
  if (lid == 0u) {
    wgFirst = (prefixEnd + TK - 1u) / TK;
    wgSecond = max(wgFirst, lo / TK);
    wgEnd = max(wgSecond, (hi + TK - 1u) / TK);
  }
  let prefixTiles = workgroupUniformLoad(&wgFirst);
  let bandFirst = workgroupUniformLoad(&wgSecond);
  let bandEnd = workgroupUniformLoad(&wgEnd);
  let visits = prefixTiles + bandEnd - bandFirst;
  for (var n = 0u; n < visits; n++) {
    let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);
    let ja = kt * TK;
    let j1 = min(ja + TK, P.seqK);
    let jb = j1 - 1u;
    if (lid == 0u) { wgClass = classify(kt, ja, jb, pa, pb, b, qt); }
    let c = workgroupUniformLoad(&wgClass);
    if (c == 0u) { continue; }
    // Stage the K/V tile once for all the rows of the workgroup.
    for (var x = lid; x < (j1 - ja) * DW; x += TQ) {
      kTile[x] = qkvbuf[kBase0 + select(P.ringPrefix + ((ja + x / DW) - P.ringPrefix) % P.ringSlots, (ja + x / DW), (ja + x / DW) < P.ringPrefix) * DW + x % DW];
    }
    for (var x = lid; x < (j1 - ja) * DVW; x += TQ) {
      vTile[x] = qkvbuf[vBase0 + select(P.ringPrefix + ((ja + x / DVW) - P.ringPrefix) % P.ringSlots, (ja + x / DVW), (ja + x / DVW) < P.ringPrefix) * DVW + x % DVW];
    }
    workgroupBarrier();
    if (c == 2u) {
      for (var j = ja; j < j1; j++) {
        let kRow = (j - ja) * DW;
        let vRow = (j - ja) * DVW;
        var s = 0.0;
        for (var d = 0u; d < DW; d++) { s += dot(qrow[d], kTile[kRow + d]); }
        s = 3e+1 * tanhSafe(s * 0.033333335);
        s -= slope * f32(abs(i32(p) - i32(j)));
        s *= 1.442695;
        // Lazy rescale: only when the running max grows.
        if (s > m) {
          let c = exp2(m - s);
          l *= c;
          for (var d = 0u; d < DVW; d++) { acc[d] *= c; }
          m = s;
        }
        let w = exp2(s - m);
        l += w;
        for (var d = 0u; d < DVW; d++) { acc[d] += w * vTile[vRow + d]; }
      }
    } else {
      for (var j = ja; j < j1; j++) {
        if (!allowed(p, j, b, segRow)) { continue; }
        let kRow = (j - ja) * DW;
        let vRow = (j - ja) * DVW;
        var s = 0.0;
        for (var d = 0u; d < DW; d++) { s += dot(qrow[d], kTile[kRow + d]); }
        s = 3e+1 * tanhSafe(s * 0.033333335);
        s -= slope * f32(abs(i32(p) - i32(j)));
        s *= 1.442695;
        // Lazy rescale: only when the running max grows.
        if (s > m) {
          let c = exp2(m - s);
          l *= c;
          for (var d = 0u; d < DVW; d++) { acc[d] *= c; }
          m = s;
        }
        let w = exp2(s - m);
        l += w;
        for (var d = 0u; d < DVW; d++) { acc[d] += w * vTile[vRow + d]; }
      }
    }
    workgroupBarrier();
  }
  if (i >= P.seqQ) { return; }
  // A row with no allowed key gets 0, never 0/0.
  let inv = select(0.0, 1.0 / l, l > 0.0);
  for (var d = 0u; d < DVW; d++) { obuf[oRow + d] = acc[d] * inv; }
}
