// attnc cluster bucket lists: keys sorted by (bucket, position), (start, count) per bucket
const NBUCKETS: u32 = 16u;
const D: u32 = 64u;
const HKVG: u32 = 8u;
const KV_HEAD_OFFSET: u32 = 0u;
const TOTAL_KV_HEADS: u32 = 8u;
const CHUNK: u32 = 4096u;
@group(0) @binding(2) var<storage, read_write> aux: array<u32>;
struct Params {
  seqK: u32,
  chunks: u32,
  total: u32,
  bucketBase: u32,
  listBase: u32,
  rangeBase: u32,
  countBase: u32,
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
  let t = x % NBUCKETS;
  let r = x / NBUCKETS;
  let c = r % P.chunks;
  let bh = r / P.chunks;
  let j0 = c * CHUNK;
  let j1 = min(j0 + CHUNK, min(P.ringPrefix, P.seqK) + (P.seqK - max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK))));
  let kb = P.bucketBase + bh * P.kvRows;
  var before = 0u;
  var count = 0u;
  var earlier = 0u;
  // Every chunk's counts of this bucket: keys below it, in it, in it before chunk c.
  for (var e = 0u; e < P.chunks; e++) {
    let at = ((bh * P.chunks + e) * NBUCKETS + t) * 2u;
    let equal = aux[P.countBase + at + 1u];
    before += aux[P.countBase + at];
    count += equal;
    earlier += select(0u, equal, e < c);
  }
  let start = P.listBase + bh * P.kvRows + before;
  var n = start + earlier;
  for (var i = j0; i < j1; i++) {
    let j = select(max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK)) + (i - min(P.ringPrefix, P.seqK)), i, i < min(P.ringPrefix, P.seqK));
    if (aux[kb + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)] == t) { aux[n] = j; n++; }
  }
  if (c == 0u) {
    let range = (bh * NBUCKETS + t) * 2u;
    aux[P.rangeBase + range] = start;
    aux[P.rangeBase + range + 1u] = count;
  }
}
