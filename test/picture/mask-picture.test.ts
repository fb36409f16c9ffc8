import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import { compile } from '../../src/api/compile.js';
import type { BenchmarkResult } from '../../src/api/benchmark.js';
import { benchPlot } from '../../src/picture/bench-plot.js';
import { blockGrid, maskGrid } from '../../src/picture/grids.js';
import { COLORS, specPicture } from '../../src/picture/mask-picture.js';
import { svgToPng } from '../../src/picture/png.js';
import { maskAllows } from '../../src/ir/mask.js';
import type { Mask } from '../../src/ir/ir.js';

function modulesOf(body: string) {
  const result = compile(`attention a {\n  heads: 2\n  head_dim: 8\n${body}\n}\n`);
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.modules;
}

function maskOf(body: string): Mask {
  const mechanism = modulesOf(body)[0]!.ir.groups[0]!.mechanism;
  if (mechanism.kind !== 'softmax') throw new Error('not softmax');
  return mechanism.mask;
}

/** Cells of the given class in the mask panel: runs of equal cells are one rectangle. */
function maskPanelCells(svg: string, cls: string, n: number): number {
  const panel = svg.slice(svg.indexOf('<g class="mask-panel"'), svg.indexOf('</g>'));
  const cell = 320 / n;
  let cells = 0;
  for (const m of panel.matchAll(
    /<rect [^>]*width="([\d.]+)"[^>]*fill="([^"]+)" class="([^"]+)"/g,
  )) {
    if (m[3] !== cls) continue;
    cells += Number(m[1]) / cell;
  }
  return Math.round(cells);
}

describe('specPicture', () => {
  it('draws causal at N = 8 with exactly 36 allowed cells, in the allowed colour', () => {
    const svg = specPicture(modulesOf('  causal: true'), { seq: 8 });
    expect(maskPanelCells(svg, 'allowed', 8)).toBe(36);
    expect(maskPanelCells(svg, 'masked', 8)).toBe(28);
    expect(svg).toMatch(new RegExp(`fill="${COLORS.allowed}" class="allowed"`));
    expect(svg).toMatch(new RegExp(`fill="${COLORS.masked}" class="masked"`));
    expect(svg).toContain('density: 56.3% of scores allowed (36 of 64)');
    // The legend names every colour, the block plan counts its one tile.
    expect(svg).toContain('class="legend-allowed"');
    expect(svg).toContain('class="legend-masked"');
    expect(svg).toContain('partial (masked per element): 1 (100.0%)');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  });

  it('classifies the block plan of a causal mask as the kernel sees it', () => {
    const grid = blockGrid(maskOf('  causal: true'), 256, 64, 64, { seqK: 256 });
    // 4 x 4 tiles: 4 diagonal (partial), 6 below (full), 6 above (empty).
    expect(grid.counts).toEqual({ empty: 6, partial: 4, full: 6, data: 0 });
    expect(grid.exact).toBe(true);
  });

  it('agrees with counting every pair, at a resolution where one cell is one pair', () => {
    for (const body of [
      '  mask: window(3) | global(0)',
      '  mask: dilated(2, dilation: 3)',
      '  mask: blocks(5) & causal',
      '  mask: sink(2) | window(left: 4, right: 0)',
      '  mask: random(2, block: 4, seed: 3)',
      '  mask: stride(3) & causal',
      '  mask: window(2) | stride(5)',
      '  mask: dilated(3, dilation: 1) & sink(9)',
      '  mask: (window(left: 6, right: 0) | global(first: 1)) & blocks(8)',
    ]) {
      const mask = maskOf(body);
      const n = 40;
      const grid = maskGrid(mask, n, { seqK: n });
      let allowed = 0;
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) if (maskAllows(mask, { i, p: i, j, seqK: n })) allowed++;
      expect({ body, allowed: grid.allowedPairs, exact: grid.exact }).toEqual({
        body,
        allowed,
        exact: true,
      });
      // Tiles of 8 x 8: every class counted pair by pair must match the block grid.
      const counts = { empty: 0, partial: 0, full: 0, data: 0 };
      for (let qt = 0; qt < 5; qt++)
        for (let kt = 0; kt < 5; kt++) {
          let yes = 0;
          for (let i = qt * 8; i < qt * 8 + 8; i++)
            for (let j = kt * 8; j < kt * 8 + 8; j++)
              if (maskAllows(mask, { i, p: i, j, seqK: n })) yes++;
          counts[yes === 0 ? 'empty' : yes === 64 ? 'full' : 'partial']++;
        }
      expect({ body, counts: blockGrid(mask, n, 8, 8, { seqK: n }).counts }).toEqual({
        body,
        counts,
      });
    }
  });

  it('stays fast at large N by deciding whole regions from the closed forms', () => {
    const start = performance.now();
    const svg = specPicture(modulesOf('  causal: true\n  mask: window(left: 512, right: 0)'), {
      seq: 65536,
    });
    expect(performance.now() - start).toBeLessThan(5000);
    expect(svg).toContain('density: ≈ ');
    expect(svg).toContain('one cell = about 256x256 pairs');
    // At most 256 x 256 cells, merged into runs: the document stays small.
    expect(svg.length).toBeLessThan(2_000_000);
  });

  it('estimates the density of a strided mask without aliasing when it samples', () => {
    const n = 8192;
    const mask = maskOf('  causal: true\n  mask: window(left: 127, right: 0) | stride(128)');
    const grid = maskGrid(mask, n, { seqK: n });
    expect(grid.exact).toBe(false);
    // Per query p: the window's min(p, 127) + 1 keys, and floor(p / 128) strided ones before it.
    let allowed = 0;
    for (let p = 0; p < n; p++) allowed += Math.min(p, 127) + 1 + Math.floor(p / 128);
    expect(Math.abs(grid.allowedPairs - allowed) / allowed).toBeLessThan(0.02);
  });

  it('draws a routed mask as data-dependent and says which leaf decides', () => {
    const svg = specPicture(modulesOf('  causal: true\n  mask: topk(2, block: 4)'), { seq: 256 });
    expect(svg).toContain('class="legend-data"');
    expect(svg).toContain('data-dependent: topk(2, block: 4, causal) chooses among');
    expect(maskPanelCells(svg, 'data', 256)).toBeGreaterThan(0);
    expect(maskPanelCells(svg, 'allowed', 256)).toBe(0);
    expect(svg).toContain('routed (chosen at run time)');
  });

  it('draws segment masks from seeded document ids and says so', () => {
    const svg = specPicture(modulesOf('  mask: segment'), { seq: 32 });
    expect(svg).toContain('segment ids: seeded random documents');
    expect(maskPanelCells(svg, 'allowed', 32)).toBeGreaterThan(0);
  });

  it('describes a linear group instead of drawing a score matrix', () => {
    const svg = specPicture(modulesOf('  kernel: favor(16, seed: 0)'), { seq: 64 });
    expect(svg).toContain('linear attention: no score matrix');
  });
});

describe('svgToPng', () => {
  it('writes a PNG of the picture that decodes to the expected size', () => {
    const svg = specPicture(modulesOf('  causal: true'), { seq: 8 });
    const png = svgToPng(svg, { scale: 1 });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const width = new DataView(png.buffer, png.byteOffset).getUint32(16);
    const height = new DataView(png.buffer, png.byteOffset).getUint32(20);
    const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
    const svgHeight = Number(/height="(\d+)"/.exec(svg)![1]);
    expect([width, height]).toEqual([svgWidth, svgHeight]);
    // Rendered back: the top-left mask cell (query 0, key 0) is allowed and blue; the top-right
    // one (query 0, key 7) is masked and grey.
    const pixels = new Resvg(svg).render().pixels;
    const at = (x: number, y: number) => [
      ...pixels.subarray((y * width + x) * 4, (y * width + x) * 4 + 3),
    ];
    const hex = (c: string) => [1, 3, 5].map((k) => parseInt(c.slice(k, k + 2), 16));
    const firstCell = /<g class="mask-panel"[^>]*>\n?<rect x="([\d.]+)" y="([\d.]+)"/.exec(svg)!;
    const x0 = Number(firstCell[1]);
    const y0 = Number(firstCell[2]);
    expect(at(x0 + 5, y0 + 5)).toEqual(hex(COLORS.allowed));
    expect(at(x0 + 320 - 5, y0 + 5)).toEqual(hex(COLORS.masked));
  });
});

describe('benchPlot', () => {
  const timing = (ms: number) => ({ medianMs: ms, minMs: ms, timesMs: [ms] });
  const result = (name: string, n: number, ms: number, dense?: number): BenchmarkResult => ({
    name,
    batch: 1,
    seqQ: n,
    seqK: n,
    timing: timing(ms),
    ...(dense !== undefined ? { dense: timing(dense), speedupOverDense: dense / ms } : {}),
  });

  it('draws one curve per attention and a dashed dense curve beside each', () => {
    const svg = benchPlot(
      [
        result('swa', 256, 1, 2),
        result('swa', 1024, 3, 30),
        result('moba', 256, 2, 2),
        result('moba', 1024, 5, 30),
      ],
      'bench',
    );
    const labels = [...svg.matchAll(/class="series" data-label="([^"]+)"/g)].map((m) => m[1]);
    expect(labels).toEqual(['swa', 'swa: dense', 'moba', 'moba: dense']);
    expect(svg.match(/stroke-dasharray/g)!.length).toBe(4); // two curves, two legend lines
    expect(svg).toContain('class="x-tick">256<');
    expect(svg).toContain('class="x-tick">1024<');
    expect(svg).toContain('median ms, log scale');
  });

  it('refuses to plot nothing', () => {
    expect(() => benchPlot([], 'empty')).toThrow(/no results/);
  });
});
