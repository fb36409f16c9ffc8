// attnc head routing (scatter): attention mixture_of_heads, top(2) of 8 heads
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
  oBase: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> aux: array<u32>;
@group(0) @binding(2) var<storage, read_write> obuf: array<u32>;

const OW: u32 = 64u;

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
  var next: array<u32, H>;
  for (var h = 0u; h < H; h++) { next[h] = aux[P.chunkCountsBase + (b * P.chunks + c) * H + h]; }
  for (var i = c * CHUNK; i < rowEnd; i++) {
    for (var h = 0u; h < H; h++) {
      let weight = bitcast<f32>(aux[P.weightsBase + (b * P.seqQ + i) * H + h]);
      if (weight > 0.0) {
        aux[P.rowsBase + (b * H + h) * P.seqQ + next[h]] = i;
        next[h] += 1u;
      } else {
        // A dropped (row, head) pair is never computed: its output is 0.
        let oRow = P.oBase + ((b * H + h) * P.seqQ + i) * OW;
        for (var d = 0u; d < OW; d++) { obuf[oRow + d] = 0u; }
      }
    }
  }
}
