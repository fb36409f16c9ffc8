// The run-time inputs of the reference and their validation. The reference refuses to
// compute on a wrong shape or a NaN: a silent garbage result would make every differential
// test that relies on it meaningless. Messages name the input, the expected and the actual value.

import type { CheckedAttention, MaskNode } from '../check/checked.js';

/** Tensors in the attention's layout (language.md section 2), all row-major. */
export interface ReferenceInputs {
  readonly q: Float32Array;
  readonly k: Float32Array;
  readonly v: Float32Array;
  readonly batch: number;
  readonly seqQ: number;
  readonly seqK: number;
  /** `[B, Nq]`, for `segment`. */
  readonly seg_q?: Uint32Array;
  /** `[B, Nk]`, for `segment`. */
  readonly seg_k?: Uint32Array;
  /** `[Hkv, r, max_seq]`, for `linformer(r)`. */
  readonly E?: Float32Array;
  /** `[Hkv, r, max_seq]`, for `linformer(r)`. */
  readonly F?: Float32Array;
  /** `[Hkv, c, D]`, for `cluster(c)`. */
  readonly centroids?: Float32Array;
  /** `[B, Nq, H]` logits, for `head_routing`. */
  readonly router?: Float32Array;
}

type FloatInputName = 'q' | 'k' | 'v' | 'E' | 'F' | 'centroids' | 'router';
type IndexInputName = 'seg_q' | 'seg_k';

/** One expected shape: its dimension names and sizes, for the error message. */
interface Shape {
  readonly dims: readonly (readonly [string, number])[];
}

/** Every primitive of a mask expression, depth first. */
export function maskPrimitives(mask: MaskNode): MaskNode[] {
  switch (mask.kind) {
    case 'union':
    case 'intersect':
      return mask.terms.flatMap(maskPrimitives);
    default:
      return [mask];
  }
}

/**
 * Checks every input the attention needs (and only those): presence, length, finiteness,
 * and the sizes B, Nq, Nk themselves. Throws an Error on the first problem.
 */
export function validateInputs(attention: CheckedAttention, inputs: ReferenceInputs): void {
  const { batch, seqQ, seqK } = inputs;
  checkSize('batch', batch, 1);
  checkSize('seqQ', seqQ, 1);
  checkSize('seqK', seqK, 1);
  if (seqQ > seqK) {
    throw new Error(
      `reference: seqQ (${seqQ}) must not exceed seqK (${seqK}); queries are aligned bottom-right`,
    );
  }
  const H = attention.heads;
  const Hkv = attention.kvHeads;
  const D = attention.headDim;
  const Dv = attention.valueDim;
  checkFloats('q', inputs.q, {
    dims: [
      ['B', batch],
      ['H', H],
      ['Nq', seqQ],
      ['D', D],
    ],
  });
  checkFloats('k', inputs.k, {
    dims: [
      ['B', batch],
      ['Hkv', Hkv],
      ['Nk', seqK],
      ['D', D],
    ],
  });
  checkFloats('v', inputs.v, {
    dims: [
      ['B', batch],
      ['Hkv', Hkv],
      ['Nk', seqK],
      ['Dv', Dv],
    ],
  });
  if (attention.layout !== 'bhnd' && attention.layout !== 'bnhd') {
    throw new Error(`reference: unknown layout '${String(attention.layout)}'`);
  }

  const primitives = attention.groups.flatMap((group) => maskPrimitives(group.mask));
  if (primitives.some((p) => p.kind === 'segment')) {
    checkIndices('seg_q', inputs.seg_q, {
      dims: [
        ['B', batch],
        ['Nq', seqQ],
      ],
    });
    checkIndices('seg_k', inputs.seg_k, {
      dims: [
        ['B', batch],
        ['Nk', seqK],
      ],
    });
  }
  const clusterCount = sharedCount(
    'cluster',
    primitives.flatMap((p) => (p.kind === 'cluster' ? [p.count] : [])),
  );
  if (clusterCount !== undefined) {
    checkFloats('centroids', inputs.centroids, {
      dims: [
        ['Hkv', Hkv],
        ['c', clusterCount],
        ['D', D],
      ],
    });
  }
  const rank = sharedCount(
    'linformer',
    attention.groups.flatMap((g) => (g.lowrank?.kind === 'linformer' ? [g.lowrank.rank] : [])),
  );
  if (rank !== undefined) {
    const maxSeq = attention.maxSeq;
    if (maxSeq === undefined)
      throw new Error(`reference: linformer needs max_seq, but the attention has none`);
    if (seqK > maxSeq) {
      throw new Error(
        `reference: seqK is ${seqK}, but max_seq is ${maxSeq}; linformer needs Nk <= max_seq`,
      );
    }
    const shape: Shape = {
      dims: [
        ['Hkv', Hkv],
        ['r', rank],
        ['max_seq', maxSeq],
      ],
    };
    checkFloats('E', inputs.E, shape);
    checkFloats('F', inputs.F, shape);
  }
  if (attention.headRouting !== undefined) {
    checkFloats('router', inputs.router, {
      dims: [
        ['B', batch],
        ['Nq', seqQ],
        ['H', H],
      ],
    });
  }
}

/** The one `count` every primitive of a run-time-shaped input agrees on (the input has one shape). */
function sharedCount(what: string, counts: readonly number[]): number | undefined {
  const distinct = [...new Set(counts)];
  if (distinct.length > 1) {
    throw new Error(
      `reference: every ${what} in one attention must use the same size (they share one input), got ${distinct.join(', ')}`,
    );
  }
  return distinct[0];
}

function checkSize(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`reference: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

function expectedLength(shape: Shape): number {
  return shape.dims.reduce((n, [, size]) => n * size, 1);
}

function describe(shape: Shape): string {
  const names = shape.dims.map(([name]) => name).join(', ');
  const sizes = shape.dims.map(([, size]) => size).join(' x ');
  return `[${names}] = ${sizes} = ${expectedLength(shape)} elements`;
}

function checkLength(name: string, actual: number, shape: Shape): void {
  if (actual !== expectedLength(shape)) {
    throw new Error(
      `reference: input '${name}' has ${actual} elements, expected ${describe(shape)}`,
    );
  }
}

function checkFloats(name: FloatInputName, data: Float32Array | undefined, shape: Shape): void {
  if (data === undefined)
    throw new Error(`reference: missing input '${name}', expected ${describe(shape)}`);
  checkLength(name, data.length, shape);
  for (let index = 0; index < data.length; index++) {
    const x = data[index] as number;
    if (!Number.isFinite(x)) {
      throw new Error(
        `reference: input '${name}' holds ${x} at index ${index}; inputs must be finite`,
      );
    }
  }
}

function checkIndices(name: IndexInputName, data: Uint32Array | undefined, shape: Shape): void {
  if (data === undefined)
    throw new Error(`reference: missing input '${name}', expected ${describe(shape)}`);
  checkLength(name, data.length, shape);
}
