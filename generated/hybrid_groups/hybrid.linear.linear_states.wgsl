// attnc linear states: attention hybrid, group linear, phi elu1, causal (one slot per chunk)
const W: u32 = 4u;
const D: u32 = 64u;
const DV: u32 = 64u;
const DPHI: u32 = 64u;
const DW: u32 = 16u;
const DVW: u32 = 16u;
const DPHIW: u32 = 16u;
// One state slot in vectors: S (DPHI rows of DVW) then z (DPHIW).
const SLOT: u32 = 1040u;
const ZOFF: u32 = 1024u;
const C: u32 = 64u;
const F: u32 = 32u;
const FW: u32 = 8u;
const HEADS: u32 = 4u;
const KV_HEADS: u32 = 4u;
const GROUP_SIZE: u32 = 1u;
const HEAD_OFFSET: u32 = 4u;
const KV_HEAD_OFFSET: u32 = 4u;
const TOTAL_HEADS: u32 = 8u;
const TOTAL_KV_HEADS: u32 = 8u;
// A task: value vector cq = task % DVW, features fg * FG .. fg * FG + FG of the block.
const FG: u32 = 16u;
const TASKS: u32 = 32u;
const TPL: u32 = 1u;

struct Params {
  seqK: u32,
  slots: u32,
  keysPerSlot: u32,
  total: u32,
  kBase: u32,
  vBase: u32,
  stBase: u32,
  featureRows: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> qkvbuf: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> lin: array<vec4<f32>>;

// phi(k) of the C staged keys, F features each: kf[r * FW + fw].
var<workgroup> kf: array<vec4<f32>, C * FW>;

fn ldK(e: u32) -> vec4<f32> { return qkvbuf[P.kBase + e]; }
fn ldV(e: u32) -> vec4<f32> { return qkvbuf[P.vBase + e]; }

@compute @workgroup_size(64)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let linear = wid.x + wid.y * nwg.x;
  if (linear >= P.total) { return; }
  let slot = linear % P.slots;
  let bk = linear / P.slots;
  let hk = KV_HEAD_OFFSET + bk % KV_HEADS;
  let b = bk / KV_HEADS;
  let j0 = slot * P.keysPerSlot;
  let j1 = min(j0 + P.keysPerSlot, P.seqK);
  // Slots of one (batch, kv head) are contiguous: linear = (b * KV_HEADS + local kv head) * slots + slot.
  let out = P.stBase + linear * SLOT;
  for (var t0w = 0u; t0w < DPHIW; t0w += FW) {
    // Explicitly zeroed: a declaration inside a loop must reset it on every block.
    var acc = array<vec4<f32>, TPL * FG>();
    var zacc = vec4<f32>(0.0);
    for (var ja = j0; ja < j1; ja += C) {
      let j = ja + lid;
      if (j < j1) {
        let row = ((b * TOTAL_KV_HEADS + hk) * P.seqK + j) * DW;
        for (var fw = 0u; fw < P.featureRows; fw++) {
          let t = t0w + fw;
          let x = ldK(row + t);
          kf[lid * FW + fw] = select(exp(x), x + 1.0, x > vec4<f32>(0.0));
        }
      } else {
        for (var fw = 0u; fw < FW; fw++) { kf[lid * FW + fw] = vec4<f32>(0.0); }
      }
      workgroupBarrier();
      let n = min(C, j1 - ja);
      for (var r = 0u; r < n; r++) {
        let vrow = ((b * TOTAL_KV_HEADS + hk) * P.seqK + ja + r) * DVW;
        for (var u = 0u; u < TPL; u++) {
          let task = min(lid + u * C, TASKS - 1u);
          let vq = ldV(vrow + task % DVW);
          let fb = (task / DVW) * FG;
          for (var g = 0u; g < FG / 4u; g++) {
            let k4 = kf[r * FW + fb / 4u + g];
            let a = u * FG + 4u * g;
            acc[a] += k4.x * vq;
            acc[a + 1u] += k4.y * vq;
            acc[a + 2u] += k4.z * vq;
            acc[a + 3u] += k4.w * vq;
          }
        }
        zacc += kf[r * FW + min(lid, FW - 1u)];
      }
      workgroupBarrier();
    }
    for (var u = 0u; u < TPL; u++) {
      let task = lid + u * C;
      if (task >= TASKS) { break; }
      let cq = task % DVW;
      let fb = t0w * W + (task / DVW) * FG;
      for (var f = 0u; f < FG; f++) {
        lin[out + (fb + f) * DVW + cq] = acc[u * FG + f];
      }
    }
    if (lid < FW) { lin[out + ZOFF + t0w + lid] = zacc; }
  }
}
