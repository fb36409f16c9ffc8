// attnc cluster bucket lists: keys sorted by (bucket, position), (start, count) per bucket
const NBUCKETS: u32 = 16u;
const D: u32 = 64u;
const HKVG: u32 = 8u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_KV_HEADS: u32 = 8u;
@group(0) @binding(2) var<storage, read_write> aux: array<u32>;
struct Params {
  seqK: u32,
  total: u32,
  bucketBase: u32,
  listBase: u32,
  rangeBase: u32,
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
  let held = min(P.ringPrefix, P.seqK) + (P.seqK - max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK)));
  let t = x % NBUCKETS;
  let bh = x / NBUCKETS;
  let kb = P.bucketBase + bh * P.kvRows;
  var before = 0u;
  var count = 0u;
  for (var i = 0u; i < held; i++) {
    let j = select(max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK)) + (i - min(P.ringPrefix, P.seqK)), i, i < min(P.ringPrefix, P.seqK));
    let v = aux[kb + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)];
    before += select(0u, 1u, v < t);
    count += select(0u, 1u, v == t);
  }
  let start = P.listBase + bh * P.kvRows + before;
  var n = start;
  for (var i = 0u; i < held; i++) {
    let j = select(max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK)) + (i - min(P.ringPrefix, P.seqK)), i, i < min(P.ringPrefix, P.seqK));
    if (aux[kb + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)] == t) { aux[n] = j; n++; }
  }
  aux[P.rangeBase + x * 2u] = start;
  aux[P.rangeBase + x * 2u + 1u] = count;
}
