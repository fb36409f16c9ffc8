// A store's scratch grows by doubling, keeps what it outgrew until destroy (work recorded with
// it may not be submitted yet), and allocates nothing once large enough.

import { describe, expect, it } from 'vitest';
import { GrowingScratch } from '../../../src/runtime/cache/growing-scratch.js';

interface FakeBuffer {
  readonly label: string;
  readonly size: number;
  destroyed: boolean;
  destroy(): void;
}

function fakeDevice() {
  const made: FakeBuffer[] = [];
  const device = {
    createBuffer(d: { label: string; size: number }) {
      const b: FakeBuffer = {
        label: d.label,
        size: d.size,
        destroyed: false,
        destroy() {
          this.destroyed = true;
        },
      };
      made.push(b);
      return b;
    },
  };
  return { device: device as unknown as GPUDevice, made };
}

describe('GrowingScratch', () => {
  (globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage ??= { STORAGE: 0x80 };

  it('reuses a large enough buffer, doubles past it, and keeps the outgrown one', () => {
    const { device, made } = fakeDevice();
    const scratch = new GrowingScratch<'chunk' | 'qphi'>(device, 'state');
    const first = scratch.get('chunk', 100);
    expect(first.size).toBe(256);
    expect(scratch.get('chunk', 256)).toBe(first);
    const grown = scratch.get('chunk', 300);
    expect(grown.size).toBe(512);
    expect(scratch.get('qphi', 40).label).toBe('state.qphi');
    expect(made.map((b) => b.label)).toEqual(['state.chunk', 'state.chunk', 'state.qphi']);
    expect(made.some((b) => b.destroyed)).toBe(false);
    expect(scratch.bytes).toBe(256 + 512 + 256);
    scratch.destroy();
    expect(made.every((b) => b.destroyed)).toBe(true);
    expect(scratch.bytes).toBe(0);
  });

  it('rounds a request past twice the old size up to 16 bytes', () => {
    const { device } = fakeDevice();
    const scratch = new GrowingScratch<'partial'>(device, 'rows');
    scratch.get('partial', 10);
    expect(scratch.get('partial', 1001).size).toBe(1008);
  });
});
