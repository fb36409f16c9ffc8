// attnc lsh bucket counts: per key chunk and bucket, the keys below it and in it
const NBUCKETS: u32 = 32u;
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
  var less = 0u;
  var equal = 0u;
  for (var i = j0; i < j1; i++) {
    let j = select(max(min(P.ringPrefix, P.seqK), P.seqK - min(P.ringSlots, P.seqK)) + (i - min(P.ringPrefix, P.seqK)), i, i < min(P.ringPrefix, P.seqK));
    let v = aux[kb + select(P.ringPrefix + ((j) - P.ringPrefix) % P.ringSlots, (j), (j) < P.ringPrefix)];
    less += select(0u, 1u, v < t);
    equal += select(0u, 1u, v == t);
  }
  aux[P.countBase + x * 2u] = less;
  aux[P.countBase + x * 2u + 1u] = equal;
}
