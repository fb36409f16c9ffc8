enable subgroups;

// attnc fused softmax: attention bigbird, group bigbird, variant subgroup
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
const WG: u32 = 128u;
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
@group(0) @binding(1) var<storage, read> qbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> kbuf: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> vbuf: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> obuf: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> auxbuf: array<u32>;

// q rows (pre-scaled) and accumulators of the query tile; lanes own strided columns.
var<workgroup> qTile: array<f32, TQ * D>;
var<workgroup> accTile: array<f32, TQ * DV>;
var<workgroup> rowMax: array<f32, TQ>;
var<workgroup> rowSum: array<f32, TQ>;
var<workgroup> kTile: array<f32, TK * D>;
var<workgroup> vTile: array<f32, TK * DV>;
// Tile-level values pass through workgroupUniformLoad so barriers and subgroup operations
// sit in uniform control flow.
var<workgroup> wgClass: u32;
var<workgroup> wgFirst: u32;
var<workgroup> wgSecond: u32;
var<workgroup> wgEnd: u32;
var<workgroup> wgSubgroups: u32;
var<workgroup> wgTickets: atomic<u32>;

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

@compute @workgroup_size(128)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
  @builtin(subgroup_size) sgSize: u32,
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
  let pa = qt * TQ + offset;
  let pb = min(qt * TQ + TQ, P.seqQ) - 1u + offset;
  let kBase0 = P.kBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DW;
  let vBase0 = P.vBase + (b * TOTAL_KV_HEADS + hk) * P.kvRows * DVW;
  // Number the subgroups 0..count-1 with a ticket per subgroup: nothing is assumed about
  // how invocations map to subgroups.
  var ticket = 0u;
  if (subgroupElect()) { ticket = atomicAdd(&wgTickets, 1u); }
  let sg = subgroupBroadcastFirst(ticket);
  // The query tile (rows past seqQ repeat the last row and are never stored).
  for (var x = lid; x < TQ * DW; x += WG) {
    let row = min(qt * TQ + x / DW, P.seqQ - 1u);
    let unit = qbuf[P.qBase + ((b * TOTAL_HEADS + h) * P.seqQ + row) * DW + x % DW] * 0.17677669;
    qTile[x * 4u] = unit.x;
    qTile[x * 4u + 1u] = unit.y;
    qTile[x * 4u + 2u] = unit.z;
    qTile[x * 4u + 3u] = unit.w;
  }
  for (var x = lid; x < TQ * DV; x += WG) { accTile[x] = 0.0; }
  for (var x = lid; x < TQ; x += WG) { rowMax[x] = NEG_BIG; rowSum[x] = 0.0; }
  workgroupBarrier();
  // Visit only the key tiles of [0, prefix) and [lo, hi) (closed forms of the mask).
  let NK = i32(P.seqK);
  let prefixEnd = min(0u, P.seqK);
  let lo = u32(clamp(max(0i, min(i32(pa) - 4i, max(0i, 0i))), 0i, NK));
  let hi = u32(clamp(min(i32(min(pb + 1u, u32(NK))), max(i32(min(pb + 3u, u32(NK))), min(NK, NK))), 0i, NK));
  if (lid == 0u) {
    wgFirst = (prefixEnd + TK - 1u) / TK;
    wgSecond = max(wgFirst, lo / TK);
    wgEnd = max(wgSecond, (hi + TK - 1u) / TK);
    wgSubgroups = atomicLoad(&wgTickets);
  }
  let prefixTiles = workgroupUniformLoad(&wgFirst);
  let bandFirst = workgroupUniformLoad(&wgSecond);
  let bandEnd = workgroupUniformLoad(&wgEnd);
  let visits = prefixTiles + bandEnd - bandFirst;
  let subgroups = workgroupUniformLoad(&wgSubgroups);
  // Subgroup sg owns rows sg, sg + subgroups, ... of the tile.
  let rowsPerSubgroup = (TQ + subgroups - 1u) / subgroups;
  let slope = exp2(-8.0 * f32(hl + 1u) / f32(HEADS));
  // Scores of one row for the current key tile (the same in every lane), then weights.
  var sc: array<f32, TK>;
  for (var n = 0u; n < visits; n++) {
    let kt = select(bandFirst + n - prefixTiles, n, n < prefixTiles);
    let ja = kt * TK;
    let j1 = min(ja + TK, P.seqK);
    let jb = j1 - 1u;
    if (lid == 0u) { wgClass = classify(kt, ja, jb, pa, pb, b, qt); }
    let c = workgroupUniformLoad(&wgClass);
    if (c == 0u) { continue; }
    // Stage the K/V tile once for all the subgroups of the workgroup.
    for (var x = lid; x < (j1 - ja) * DW; x += WG) {
      let unit = kbuf[kBase0 + select(P.ringPrefix + ((ja + x / DW) - P.ringPrefix) % P.ringSlots, (ja + x / DW), (ja + x / DW) < P.ringPrefix) * DW + x % DW];
      kTile[x * 4u] = unit.x;
      kTile[x * 4u + 1u] = unit.y;
      kTile[x * 4u + 2u] = unit.z;
      kTile[x * 4u + 3u] = unit.w;
    }
    for (var x = lid; x < (j1 - ja) * DVW; x += WG) {
      let unit = vbuf[vBase0 + select(P.ringPrefix + ((ja + x / DVW) - P.ringPrefix) % P.ringSlots, (ja + x / DVW), (ja + x / DVW) < P.ringPrefix) * DVW + x % DVW];
      vTile[x * 4u] = unit.x;
      vTile[x * 4u + 1u] = unit.y;
      vTile[x * 4u + 2u] = unit.z;
      vTile[x * 4u + 3u] = unit.w;
    }
    workgroupBarrier();
    let nk = j1 - ja;
    for (var t = 0u; t < rowsPerSubgroup; t++) {
      let r = sg + t * subgroups;
      let mine = r < TQ;
      let rc = min(r, TQ - 1u);
      let p = min(qt * TQ + rc, P.seqQ - 1u) + offset;
      let segRow = auxbuf[P.segQBase + b * P.seqQ + p - offset];
      let qRow = rc * D;
      var tileMax = NEG_BIG;
      if (c == 2u) {
        for (var jj = 0u; jj < nk; jj++) {
          var part = 0.0;
          for (var d = lane; d < D; d += sgSize) { part += qTile[qRow + d] * kTile[jj * D + d]; }
          var s = subgroupAdd(part);
          s = 3e+1 * tanhSafe(s * 0.033333335);
          s -= slope * f32(abs(i32(p) - i32(ja + jj)));
          s *= 1.442695;
          sc[jj] = s;
          tileMax = max(tileMax, s);
        }
      } else {
        for (var jj = 0u; jj < nk; jj++) {
          var part = 0.0;
          for (var d = lane; d < D; d += sgSize) { part += qTile[qRow + d] * kTile[jj * D + d]; }
          var s = subgroupAdd(part);
          s = 3e+1 * tanhSafe(s * 0.033333335);
          s -= slope * f32(abs(i32(p) - i32(ja + jj)));
          s *= 1.442695;
          s = select(NEG_BIG, s, allowed(p, ja + jj, b, segRow));
          sc[jj] = s;
          tileMax = max(tileMax, s);
        }
      }
      // Lane 0 alone reads and writes the row max and sum; the other lanes get them by
      // broadcast, so no lane can read a value lane 0 already replaced (lanes of a
      // subgroup need not run in lockstep).
      var state = vec2<f32>(NEG_BIG, 0.0);
      if (mine && lane == 0u) { state = vec2<f32>(rowMax[rc], rowSum[rc]); }
      state = subgroupBroadcast(state, 0u);
      if (mine) {
        // One rescale per tile; a masked key (NEG_BIG) weighs 0, and a first tile
        // rescales by exp2(-huge) = 0, never inf - inf.
        let mOld = state.x;
        let mNew = max(mOld, tileMax);
        let rescale = exp2(mOld - mNew);
        var sum = 0.0;
        for (var jj = 0u; jj < nk; jj++) {
          let w = select(0.0, exp2(sc[jj] - mNew), sc[jj] > NEG_BIG);
          sc[jj] = w;
          sum += w;
        }
        for (var d = lane; d < DV; d += sgSize) {
          var a = accTile[rc * DV + d] * rescale;
          for (var jj = 0u; jj < nk; jj++) { a += sc[jj] * vTile[jj * DV + d]; }
          accTile[rc * DV + d] = a;
        }
        if (lane == 0u) {
          rowMax[rc] = mNew;
          rowSum[rc] = state.y * rescale + sum;
        }
      }
    }
    workgroupBarrier();
  }
  workgroupBarrier();
  // The whole workgroup stores the tile; a row with no allowed key gets 0, never 0/0.
  for (var x = lid; x < TQ * DVW; x += WG) {
    let r = x / DVW;
    let i = qt * TQ + r;
    if (i < P.seqQ) {
      let l = rowSum[r];
      let inv = select(0.0, 1.0 / l, l > 0.0);
      obuf[P.oBase + ((b * TOTAL_HEADS + h) * P.seqQ + i) * DVW + x % DVW] = vec4<f32>(accTile[x * 4u], accTile[x * 4u + 1u], accTile[x * 4u + 2u], accTile[x * 4u + 3u]) * inv;
    }
  }
}
