// attnc head routing (select): attention mixture_of_heads, top(2) of 8 heads
const H: u32 = 8u;
const K: u32 = 2u;
const CHUNK: u32 = 64u;

struct Params {
  batch: u32,
  seqQ: u32,
  chunks: u32,
  total: u32,
  routerBase: u32,
  weightsBase: u32,
  chunkCountsBase: u32,
  countsBase: u32,
  tileEndBase: u32,
  rowsBase: u32,
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
  let b = x / P.chunks;
  let c = x % P.chunks;
  let rowEnd = min(c * CHUNK + CHUNK, P.seqQ);
  var kept: array<u32, H>;
  for (var h = 0u; h < H; h++) { kept[h] = 0u; }
  for (var i = c * CHUNK; i < rowEnd; i++) {
    let at = (b * P.seqQ + i) * H;
    var taken: array<bool, H>;
    var w: array<f32, H>;
    for (var h = 0u; h < H; h++) { taken[h] = false; w[h] = 0.0; }
    var top = 0.0;
    var sum = 0.0;
    // k rounds of "highest logit not taken yet"; strict > keeps ties on the lower head.
    for (var r = 0u; r < K; r++) {
      var best = H;
      var bestLogit = 0.0;
      for (var h = 0u; h < H; h++) {
        let logit = bitcast<f32>(aux[P.routerBase + at + h]);
        if (!taken[h] && (best == H || logit > bestLogit)) {
          best = h;
          bestLogit = logit;
        }
      }
      taken[best] = true;
      if (r == 0u) { top = bestLogit; }
      let e = exp(bestLogit - top);
      w[best] = e;
      sum += e;
    }
    for (var h = 0u; h < H; h++) {
      let weight = w[h] / sum;
      aux[P.weightsBase + at + h] = bitcast<u32>(weight);
      if (weight > 0.0) { kept[h] += 1u; }
    }
  }
  for (var h = 0u; h < H; h++) { aux[P.chunkCountsBase + (b * P.chunks + c) * H + h] = kept[h]; }
}
