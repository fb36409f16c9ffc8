// attnc head routing (scan): attention mixture_of_heads, top(2) of 8 heads
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
fn main(@builtin(local_invocation_index) lid: u32) {
  for (var e = lid; e < P.batch * H; e += 64u) {
    let b = e / H;
    let h = e % H;
    var running = 0u;
    for (var c = 0u; c < P.chunks; c++) {
      let at = P.chunkCountsBase + (b * P.chunks + c) * H + h;
      let n = aux[at];
      aux[at] = running;
      running += n;
    }
    aux[P.countsBase + e] = running;
  }
  storageBarrier();
  if (lid == 0u) {
    var tiles = 0u;
    // group mixture_of_heads: heads [0, 8), query tile 64
    tiles = 0u;
    for (var b = 0u; b < P.batch; b++) {
      for (var hl = 0u; hl < 8u; hl++) {
        let kept = aux[P.countsBase + b * H + 0u + hl];
        tiles += (kept + 64u - 1u) / 64u;
        aux[P.tileEndBase + P.batch * 0u + b * 8u + hl] = tiles;
      }
    }
  }
}
