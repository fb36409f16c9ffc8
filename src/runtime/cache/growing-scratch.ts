// Scratch buffers of a KV-cache store (recurrent-state.ts, projected-rows.ts), one per use,
// grown by doubling so a warm decode loop allocates nothing. An outgrown buffer is kept until
// destroy: work recorded with it into a caller's encoder may not be submitted yet.

export class GrowingScratch<Use extends string> {
  private readonly current = new Map<Use, GPUBuffer>();
  private readonly retired: GPUBuffer[] = [];

  constructor(
    private readonly device: GPUDevice,
    /** Buffer labels: `<owner>.<use>`. */
    private readonly owner: string,
  ) {}

  /** The buffer of `use` of at least `bytes` (STORAGE), grown by doubling. */
  get(use: Use, bytes: number): GPUBuffer {
    const existing = this.current.get(use);
    if (existing && existing.size >= bytes) return existing;
    const size = Math.max(256, bytes, existing ? existing.size * 2 : 0);
    const buffer = this.device.createBuffer({
      label: `${this.owner}.${use}`,
      size: Math.ceil(size / 16) * 16,
      usage: GPUBufferUsage.STORAGE,
    });
    if (existing) this.retired.push(existing);
    this.current.set(use, buffer);
    return buffer;
  }

  /** Device bytes of every buffer, the outgrown ones too. */
  get bytes(): number {
    return [...this.current.values(), ...this.retired].reduce((n, b) => n + b.size, 0);
  }

  destroy(): void {
    for (const b of [...this.current.values(), ...this.retired]) b.destroy();
    this.current.clear();
    this.retired.length = 0;
  }
}
