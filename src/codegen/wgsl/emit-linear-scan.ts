// Emits the scan kernel of a linear group: one invocation per (batch, kv head, state word)
// walks the slots in order. Causal: an exclusive prefix in place, so slot c then holds the
// state of every key before chunk c. Otherwise: the sum of the slots, written to slot 0.
// O(slots) per word, O(N / C * features * value_dim) in all.

import type { SizeExpr } from '../plan.js';
import { size } from '../plan.js';
import type { Uniforms } from './emit-linear-common.js';
import type { EmittedKernel } from './emitted-kernel.js';
import { paramsStructLines } from './params-struct.js';

const WORKGROUP = 64;

export function emitLinearScanKernel(
  label: string,
  causal: boolean,
  kvHeads: number,
  slotWords: number,
  lin: { readonly name: string; readonly binding: number },
  arrays: { readonly states: SizeExpr; readonly slots: SizeExpr },
): EmittedKernel {
  const uniforms: Uniforms = [
    { name: 'slots', value: arrays.slots },
    { name: 'total', value: size.mul('batch', kvHeads, slotWords) },
    { name: 'stBase', value: arrays.states },
  ];
  const walk = causal
    ? [
        '  var running = 0.0;',
        '  for (var c = 0u; c < P.slots; c++) {',
        '    let a = base + c * SLOT;',
        `    let s = ${lin.name}[a];`,
        `    ${lin.name}[a] = running;`,
        '    running += s;',
        '  }',
      ]
    : [
        '  var sum = 0.0;',
        `  for (var c = 0u; c < P.slots; c++) { sum += ${lin.name}[base + c * SLOT]; }`,
        `  ${lin.name}[base] = sum;`,
      ];
  const wgsl = [
    `// attnc linear scan: ${label}, ${causal ? 'exclusive prefix over chunks' : 'sum of the slots into slot 0'}`,
    `const SLOT: u32 = ${slotWords}u;`,
    '',
    ...paramsStructLines(uniforms),
    '',
    '@group(0) @binding(0) var<uniform> P: Params;',
    `@group(0) @binding(${lin.binding}) var<storage, read_write> ${lin.name}: array<f32>;`,
    '',
    `@compute @workgroup_size(${WORKGROUP})`,
    'fn main(',
    '  @builtin(workgroup_id) wid: vec3<u32>,',
    '  @builtin(num_workgroups) nwg: vec3<u32>,',
    '  @builtin(local_invocation_index) lid: u32,',
    ') {',
    `  let x = (wid.x + wid.y * nwg.x) * ${WORKGROUP}u + lid;`,
    '  if (x >= P.total) { return; }',
    '  // x = (b * KV_HEADS + kv head) * SLOT + word; the slots of one kv head are contiguous.',
    '  let base = P.stBase + (x / SLOT) * P.slots * SLOT + x % SLOT;',
    ...walk,
    '}',
    '',
  ].join('\n');
  return { wgsl, workgroupSize: WORKGROUP, uniforms };
}
