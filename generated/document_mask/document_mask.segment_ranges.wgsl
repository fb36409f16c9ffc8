// attnc segment tile ranges: [B][qTiles] then [B][kTiles] pairs (min, max)
const TQ: u32 = 64u;
const TK: u32 = 16u;

struct Params {
  batch: u32,
  seqQ: u32,
  seqK: u32,
  qTiles: u32,
  kTiles: u32,
  total: u32,
  segQBase: u32,
  segKBase: u32,
  rangesBase: u32,
  kvRows: u32,
  ringPrefix: u32,
  ringSlots: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> aux: array<u32>;

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let x = (wid.x + wid.y * nwg.x) * 64u + lid;
  if (x >= P.total) { return; }
  let nq = P.batch * P.qTiles;
  var lo = 0xffffffffu;
  var hi = 0u;
  if (x < nq) {
    let b = x / P.qTiles;
    let ta = x % P.qTiles * TQ;
    for (var i = ta; i < min(ta + TQ, P.seqQ); i++) {
      let s = aux[P.segQBase + b * P.seqQ + i];
      lo = min(lo, s);
      hi = max(hi, s);
    }
  } else {
    let y = x - nq;
    let b = y / P.kTiles;
    let ta = y % P.kTiles * TK;
    let tb = min(ta + TK, P.seqK);
    let recent = P.seqK - min(P.ringSlots, P.seqK);
    for (var j = ta; j < min(tb, P.ringPrefix); j++) {
      let s = aux[P.segKBase + b * P.kvRows + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)];
      lo = min(lo, s);
      hi = max(hi, s);
    }
    let first = max(ta, max(P.ringPrefix, recent));
    for (var j = first; j < min(first + TK, tb); j++) {
      let s = aux[P.segKBase + b * P.kvRows + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)];
      lo = min(lo, s);
      hi = max(hi, s);
    }
  }
  aux[P.rangesBase + x * 2u] = lo;
  aux[P.rangesBase + x * 2u + 1u] = hi;
}
