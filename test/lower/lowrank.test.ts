// Low-rank lowering, the fuse-lowrank pass, the printer and the verifier (no GPU).

import { describe, expect, it } from 'vitest';
import type { LowRank } from '../../src/check/checked.js';
import type { Attention } from '../../src/ir/ir.js';
import { printAttention } from '../../src/ir/print.js';
import { verifyAttention } from '../../src/ir/verify.js';
import { lowerAttention } from '../../src/lower/lower.js';
import { runPipeline } from '../../src/passes/pipeline.js';
import { LLVMPIPE_PROFILE, PORTABLE_PROFILE } from '../../src/target/profile.js';
import { attention, m } from '../kernels/build.js';

const S = { start: 0, end: 0 };
const linformer: LowRank = { kind: 'linformer', rank: 32, span: S };
const nystrom: LowRank = { kind: 'nystrom', landmarks: 16, iters: 6, span: S };

function lowRank(lowrank: LowRank, options: Parameters<typeof attention>[0] = {}) {
  const base = attention({ heads: 4, kvHeads: 2, headDim: 32, maxSeq: 1024, ...options });
  return { ...base, groups: base.groups.map((g) => ({ ...g, lowrank })) };
}

function lowered(lowrank: LowRank): Attention {
  const result = lowerAttention(lowRank(lowrank));
  if (!result.ok) throw new Error(JSON.stringify(result.unsupported));
  return result.attention;
}

describe('low-rank lowering', () => {
  it('lowers linformer and nystrom to a lowrank mechanism with a full mask', () => {
    const lin = lowered(linformer).groups[0]!.mechanism;
    expect(lin).toMatchObject({
      kind: 'lowrank',
      method: { kind: 'linformer', rank: 32 },
      scale: 1 / Math.sqrt(32),
      mask: { kind: 'all' },
      plan: null,
    });
    const nys = lowered(nystrom).groups[0]!.mechanism;
    expect(nys).toMatchObject({ method: { kind: 'nystrom', landmarks: 16, iters: 6 } });
    expect(verifyAttention(lowered(nystrom), 'lower')).toEqual([]);
  });

  it('lowers dtype f16 (packed halves in the kernels); odd dims stay unsupported', () => {
    for (const method of [linformer, nystrom]) {
      const result = lowerAttention({ ...lowRank(method), dtype: 'f16' });
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.attention.dtype).toBe('f16');
      expect(verifyAttention(result.attention, 'lower')).toEqual([]);
    }
    const odd = lowerAttention({ ...lowRank(nystrom, { headDim: 6 }), dtype: 'f16' });
    expect(odd.ok).toBe(false);
    if (odd.ok) return;
    expect(odd.unsupported.map((u) => u.message)).toEqual([
      'dtype f16 with head_dim 6 and value_dim 6 (f16 needs both to be multiples of 4)',
    ]);
  });

  it('reports a causal or masked low-rank group (the checker forbids both)', () => {
    const causal = lowerAttention(lowRank(nystrom, { causal: true }));
    expect(causal.ok).toBe(false);
    const masked = lowerAttention(lowRank(nystrom, { mask: m.window(3) }));
    expect(masked.ok).toBe(false);
  });
});

describe('fuse-lowrank', () => {
  it('builds each method program and passes the verifier after every pass', () => {
    for (const profile of [PORTABLE_PROFILE, LLVMPIPE_PROFILE]) {
      const lin = runPipeline(lowered(linformer), { profile }, { verify: true });
      expect(
        lin.groups[0]!.program.map((s) => (s.kind === 'lowrank' ? s.op.kind : s.kind)),
      ).toEqual(['linformer-project', 'linformer-reduce', 'attend-small']);
      const nys = runPipeline(lowered(nystrom), { profile }, { verify: true });
      expect(
        nys.groups[0]!.program.map((s) => (s.kind === 'lowrank' ? s.op.kind : s.kind)),
      ).toEqual(['nystrom-landmarks', 'nystrom-landmark-values', 'nystrom-pinv', 'attend-small']);
    }
  });

  it('prints the mechanism and its steps', () => {
    const ir = runPipeline(lowered(nystrom), { profile: PORTABLE_PROFILE });
    expect(printAttention(ir)).toBe(
      [
        'attention attn heads=4 kv_heads=2 head_dim=32 value_dim=32 layout=bhnd dtype=f32 max_seq=1024',
        '  group attn heads=[0, 4) kv_heads=[0, 2)',
        `    lowrank nystrom(16, iters: 6) scale=${1 / Math.sqrt(32)}`,
        '    0: nystrom-landmarks q, k -> landmarks  (16 segment means each)',
        '    1: nystrom-landmark-values landmarks, k, v -> landmark_values  (online softmax over Nk)',
        '    2: nystrom-pinv landmarks, landmark_values -> mixed  (6 iterations)',
        '    3: attend-small q, landmarks, mixed -> o  (softmax over 16 rows)',
        '',
      ].join('\n'),
    );
    const lin = runPipeline(lowered(linformer), { profile: LLVMPIPE_PROFILE });
    expect(printAttention(lin)).toContain(
      '0: linformer-project k, v, E, F -> kv_partial  (r=32, 2048 keys per chunk)',
    );
  });

  it('verifier rejects a program out of order or of the wrong size', () => {
    const ir = runPipeline(lowered(linformer), { profile: PORTABLE_PROFILE });
    const group = ir.groups[0]!;
    const swapped = { ...group, program: [...group.program].reverse() };
    expect(verifyAttention({ ...ir, groups: [swapped] }, 'fuse-softmax').join('\n')).toMatch(
      /low-rank program \[attend-small, linformer-reduce, linformer-project\]/,
    );
    const resized = {
      ...group,
      program: group.program.map((s) =>
        s.kind === 'lowrank' && s.op.kind === 'linformer-reduce'
          ? { ...s, op: { ...s.op, rank: 7 } }
          : s,
      ),
    };
    expect(verifyAttention({ ...ir, groups: [resized] }, 'fuse-softmax').join('\n')).toMatch(
      /linformer-reduce is sized 7, the mechanism 32/,
    );
  });
});
