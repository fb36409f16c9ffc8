// The mask's WGSL functions shared by the softmax kernel variants: per `random` leaf a lookup
// in its key-block table (`randomHas<n>`, `randomClass<n>`), then `classify` (a key tile's
// class) and `allowed` (one (p, j) pair), both built from mask-wgsl.ts.

import type { Mask } from '../../ir/ir.js';
import { allowedExpr, classifyTile, type MaskCodegenContext } from './mask-wgsl.js';

export function emitMaskFunctions(
  emit: (line?: string) => void,
  mask: Mask,
  context: MaskCodegenContext,
  randomBlocks: readonly number[],
  aux: string | undefined,
  tileParams: string,
): void {
  randomBlocks.forEach((block, n) => {
    const blk = `${block}u`;
    emitRandomHas(emit, n, block, (index) => `${aux}[${index}]`);
    emit(`fn randomClass${n}(ja: u32, jb: u32, pa: u32, pb: u32) -> u32 {`);
    emit(`  let ka = ja / ${blk}; let kz = jb / ${blk};`);
    emit('  var anyHit = false;');
    emit('  var allHit = ka == kz;');
    emit(`  for (var qb = pa / ${blk}; qb <= pb / ${blk}; qb++) {`);
    emit(`    let base = P.random${n}Base + qb * P.random${n}PerBlock;`);
    emit('    var hit = false;');
    emit(
      `    for (var t = 0u; t < P.random${n}PerBlock; t++) { let e = ${aux}[base + t]; hit = hit || (e >= ka && e <= kz); }`,
    );
    emit('    anyHit = anyHit || hit;');
    emit('    allHit = allHit && hit;');
    emit('  }');
    emit('  return select(select(1u, 2u, allHit), 0u, !anyHit);');
    emit('}');
    emit();
  });

  const classify = classifyTile(mask, context)
    .replace(/randomClass(\d+)\(\)/g, 'randomClass$1(ja, jb, pa, pb)')
    .replace(/segmentClass\(\)/g, 'segmentClass(kt, pa, pb, b, qt)');
  emit('// 0: empty (skip), 1: partial (mask per element), 2: full (no mask).');
  emit(`fn classify(kt: u32, ja: u32, jb: u32, ${tileParams}) -> u32 {`);
  emit('  let NK = i32(P.seqK);');
  emit(`  return ${classify};`);
  emit('}');
  emit();
  const allowed = allowedExpr(mask, context)
    .replace(/randomHas(\d+)\(j\)/g, 'randomHas$1(p, j)')
    .replace(/segKey\(j\)/g, 'segKey(b, j)');
  emit('fn allowed(p: u32, j: u32, b: u32, segRow: u32) -> bool {');
  emit(`  return ${allowed};`);
  emit('}');
  emit();
}

/**
 * `randomHas<n>(p, j)`: whether key block `j / block` is one of the blocks drawn for query
 * block `p / block`; `word(index)` reads one u32 of aux (the routed kernel reads it as vec4s).
 */
export function emitRandomHas(
  emit: (line?: string) => void,
  n: number,
  block: number,
  word: (index: string) => string,
): void {
  const blk = `${block}u`;
  emit(`// random leaf ${n}: table of P.random${n}PerBlock sorted key blocks per query block.`);
  emit(`fn randomHas${n}(p: u32, j: u32) -> bool {`);
  emit(`  let base = P.random${n}Base + (p / ${blk}) * P.random${n}PerBlock;`);
  emit(`  let kb = j / ${blk};`);
  emit(
    `  for (var t = 0u; t < P.random${n}PerBlock; t++) { if (${word('base + t')} == kb) { return true; } }`,
  );
  emit('  return false;');
  emit('}');
}
