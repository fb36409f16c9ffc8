// `attnc explain --picture FILE.svg`: one picture of a spec at N, as attention-gym draws masks.
// Per head group, the mask (which (query, key) pairs are allowed) beside the block plan (which
// tiles the kernel skips, masks per element or runs without a mask), each with its legend and
// figures. A routed leaf (topk, cluster, lsh) picks keys from q and k at run time: its pairs are
// drawn in their own colour as "decided by the data", and the caption says which leaf decides.

import type { CompiledModule } from '../api/compile.js';
import { randomInputs } from '../api/random-inputs.js';
import type { Group, Mask } from '../ir/ir.js';
import { printMask } from '../ir/print.js';
import {
  blockGrid,
  maskGrid,
  TILE_CLASSES,
  type BlockGrid,
  type MaskGrid,
  type TileClass,
} from './grids.js';
import type { MaskContext } from './rect-class.js';
import { mix, rect, svgDocument, text, type Box } from './svg.js';

export const COLORS = {
  allowed: '#1d4ed8',
  masked: '#e5e7eb',
  data: '#f59e0b',
  tile: { empty: '#e5e7eb', partial: '#93c5fd', full: '#1e3a8a', data: '#f59e0b' } as Record<
    TileClass,
    string
  >,
};

const PANEL = 320;
const MARGIN = 24;
/** Between the two panels, room for the legends' longer lines. */
const GAP = 110;
const ROW_HEIGHT = PANEL + 185;
/** A group with no score matrix (linear, low-rank) gets a title and two lines of text. */
const TEXT_ROW_HEIGHT = 90;
const WIDTH = MARGIN * 2 + GAP + PANEL * 2;

export interface PictureOptions {
  /** Sequence length (queries = keys) the picture is drawn at. */
  readonly seq: number;
  /** Seed of the segment ids drawn for a `segment` mask (as `attnc run` draws them). */
  readonly seed?: number;
}

/** The SVG picture of every head group of every module at N. */
export function specPicture(modules: readonly CompiledModule[], options: PictureOptions): string {
  const n = options.seq;
  const body: string[] = [];
  let y = MARGIN;
  for (const module of modules) {
    for (const group of module.ir.groups) {
      body.push(...groupRow(module, group, n, options.seed ?? 0, y));
      y += group.mechanism.kind === 'softmax' ? ROW_HEIGHT : TEXT_ROW_HEIGHT;
    }
  }
  return svgDocument(WIDTH, y, body);
}

function groupRow(
  module: CompiledModule,
  group: Group,
  n: number,
  seed: number,
  top: number,
): string[] {
  const heads = `heads ${group.headOffset}..${group.headOffset + group.heads - 1}`;
  const title = text(
    MARGIN,
    top + 14,
    `${module.name} / group ${group.name} (${heads}) at N = ${n}`,
    {
      size: 15,
      weight: 'bold',
      cls: 'title',
    },
  );
  const mechanism = group.mechanism;
  if (mechanism.kind !== 'softmax') {
    const what =
      mechanism.kind === 'linear'
        ? [
            'linear attention: no score matrix is formed; every query sees every key',
            '(every earlier one when causal) through the running states',
          ]
        : [
            'low-rank attention: no score matrix over the keys; keys are projected',
            'to a few rows, and every query sees all of them',
          ];
    return [
      title,
      text(MARGIN, top + 40, what[0]!, { cls: 'note' }),
      text(MARGIN, top + 58, what[1]!, { cls: 'note' }),
    ];
  }
  const context = maskContext(module, mechanism.mask, n, seed);
  const grid = maskGrid(mechanism.mask, n, context);
  const queryTile = mechanism.plan?.queryTile ?? 64;
  const keyTile = mechanism.plan?.keyTile ?? 64;
  const blocks = blockGrid(mechanism.mask, n, queryTile, keyTile, context);
  const panelTop = top + 44;
  const legendTop = panelTop + PANEL + 36;
  const maskBox = { x: MARGIN, y: panelTop, width: PANEL, height: PANEL };
  const blockBox = { x: MARGIN + GAP + PANEL, y: panelTop, width: PANEL, height: PANEL };
  return [
    title,
    text(maskBox.x, panelTop - 8, `mask: ${printMask(mechanism.mask)}`, { cls: 'mask-caption' }),
    text(
      blockBox.x,
      panelTop - 8,
      `block plan: ${queryTile}x${keyTile} tiles, ${mechanism.plan?.variant ?? 'unplanned'} kernel`,
      {
        cls: 'plan-caption',
      },
    ),
    `<g class="mask-panel" shape-rendering="crispEdges">`,
    ...maskCells(grid, maskBox),
    `</g>`,
    `<g class="block-panel" shape-rendering="crispEdges">`,
    ...blockCells(blocks, blockBox),
    `</g>`,
    ...axes(maskBox),
    ...axes(blockBox),
    ...maskLegend(grid, mechanism.mask, maskBox.x, legendTop),
    ...blockLegend(blocks, blockBox.x, legendTop),
  ];
}

/** Segment ids as `attnc run` draws them, for a mask with a `segment` leaf (only the ids). */
function maskContext(module: CompiledModule, mask: Mask, n: number, seed: number): MaskContext {
  if (!hasLeaf(mask, 'segment')) return { seqK: n };
  const segmentsOnly = {
    ...module,
    plan: { ...module.plan, inputs: module.plan.inputs.filter((i) => i.name.startsWith('seg_')) },
  };
  const ids = randomInputs(segmentsOnly, { batch: 1, seqQ: n, seqK: n, seed });
  return { seqK: n, segQ: ids.seg_q!, segK: ids.seg_k! };
}

function hasLeaf(mask: Mask, kind: Mask['kind']): boolean {
  if (mask.kind === kind) return true;
  return (
    (mask.kind === 'union' || mask.kind === 'intersect') && mask.terms.some((t) => hasLeaf(t, kind))
  );
}

/** Consecutive cells of a row with the same colour become one rectangle. */
function runs(
  count: number,
  colorAt: (c: number) => { fill: string; cls: string },
  cell: (c0: number, c1: number) => Box,
): string[] {
  const out: string[] = [];
  let start = 0;
  for (let c = 1; c <= count; c++) {
    const here = colorAt(start);
    if (c < count) {
      const next = colorAt(c);
      if (next.fill === here.fill && next.cls === here.cls) continue;
    }
    out.push(rect(cell(start, c), here.fill, `class="${here.cls}"`));
    start = c;
  }
  return out;
}

function maskCells(grid: MaskGrid, box: Box): string[] {
  const size = box.width / grid.side;
  const out: string[] = [];
  for (let r = 0; r < grid.side; r++) {
    out.push(
      ...runs(
        grid.side,
        (c) => {
          // Fractions in sixteenths, so neighbouring cells of one shade merge into one rectangle.
          const yes = Math.round(grid.allowed[r * grid.side + c]! * 16) / 16;
          const maybe = Math.round(grid.dataDependent[r * grid.side + c]! * 16) / 16;
          if (yes === 1) return { fill: COLORS.allowed, cls: 'allowed' };
          if (maybe === 1) return { fill: COLORS.data, cls: 'data' };
          if (yes === 0 && maybe === 0) return { fill: COLORS.masked, cls: 'masked' };
          const base = mix(COLORS.masked, COLORS.allowed, yes);
          return { fill: mix(base, COLORS.data, maybe), cls: 'some' };
        },
        (c0, c1) => ({
          x: box.x + c0 * size,
          y: box.y + r * size,
          width: (c1 - c0) * size,
          height: size,
        }),
      ),
    );
  }
  return out;
}

function blockCells(grid: BlockGrid, box: Box): string[] {
  // Cells are placed by the pairs they cover: tiles need not be square (64x8), and the last
  // row or column of tiles may be cut short by N.
  const scale = box.width / grid.n;
  const out: string[] = [];
  const classes = TILE_CLASSES.length;
  for (let r = 0; r < grid.rows; r++) {
    out.push(
      ...runs(
        grid.cols,
        (c) => {
          const at = (r * grid.cols + c) * classes;
          const tiles = TILE_CLASSES.map((_, k) => grid.cellCounts[at + k]!);
          const total = tiles.reduce((a, b) => a + b, 0);
          const only = tiles.findIndex((t) => t === total);
          if (only >= 0)
            return { fill: COLORS.tile[TILE_CLASSES[only]!], cls: `tile-${TILE_CLASSES[only]}` };
          // A cell standing for several tiles of different classes: their colours, weighted.
          let fill = COLORS.tile.empty;
          let weight = tiles[0]!;
          for (let k = 1; k < classes; k++) {
            if (tiles[k] === 0) continue;
            weight += tiles[k]!;
            fill = mix(fill, COLORS.tile[TILE_CLASSES[k]!], tiles[k]! / weight);
          }
          return { fill, cls: 'tile-mixed' };
        },
        (c0, c1) => ({
          x: box.x + grid.colBounds[c0]! * scale,
          y: box.y + grid.rowBounds[r]! * scale,
          width: (grid.colBounds[c1]! - grid.colBounds[c0]!) * scale,
          height: (grid.rowBounds[r + 1]! - grid.rowBounds[r]!) * scale,
        }),
      ),
    );
  }
  return out;
}

function axes(box: Box): string[] {
  return [
    rect(box, 'none', 'stroke="#374151" stroke-width="1"'),
    text(box.x + box.width / 2, box.y + box.height + 12, 'keys j →', {
      size: 10,
      anchor: 'middle',
    }),
    `<text x="${box.x - 6}" y="${box.y + box.height / 2}" font-size="10" text-anchor="middle" transform="rotate(-90 ${box.x - 6} ${box.y + box.height / 2})">← queries i</text>`,
  ];
}

function swatch(x: number, y: number, fill: string, label: string, cls: string): string[] {
  return [
    rect(
      { x, y: y - 10, width: 12, height: 12 },
      fill,
      `class="legend-${cls}" stroke="#374151" stroke-width="0.5"`,
    ),
    text(x + 18, y, label, { size: 12, cls: 'legend' }),
  ];
}

function pct(x: number, of: number): string {
  return `${((100 * x) / of).toFixed(1)}%`;
}

function maskLegend(grid: MaskGrid, mask: Mask, x: number, y: number): string[] {
  const total = grid.n * grid.n;
  const about = grid.exact ? '' : '≈ ';
  const out = [
    ...swatch(x, y, COLORS.allowed, 'allowed', 'allowed'),
    ...swatch(x + 90, y, COLORS.masked, 'masked', 'masked'),
  ];
  const routed = routedLeaves(mask);
  if (routed.length > 0) out.push(...swatch(x + 180, y, COLORS.data, 'decided by q, k', 'data'));
  out.push(
    text(
      x,
      y + 22,
      `density: ${about}${pct(grid.allowedPairs, total)} of scores allowed (${about}${grid.allowedPairs} of ${total})`,
      {
        cls: 'density',
      },
    ),
  );
  let lineY = y + 40;
  if (routed.length > 0) {
    out.push(
      text(x, lineY, `data-dependent: ${routed.join(', ')} chooses among`, {
        size: 11,
        cls: 'data-note',
      }),
      text(
        x,
        lineY + 15,
        `${about}${pct(grid.dataDependentPairs, total)} of the pairs at run time, from q and k;`,
        {
          size: 11,
          cls: 'data-note',
        },
      ),
      text(x, lineY + 30, 'only the static part is drawn as allowed', {
        size: 11,
        cls: 'data-note',
      }),
    );
    lineY += 48;
  }
  if (hasLeaf(mask, 'segment')) {
    out.push(
      text(x, lineY, 'segment ids: seeded random documents, as attnc run draws them', { size: 11 }),
    );
    lineY += 16;
  }
  if (grid.side < grid.n) {
    const per = Math.ceil(grid.n / grid.side);
    out.push(
      text(x, lineY, `one cell = about ${per}x${per} pairs (shade = fraction allowed)`, {
        size: 11,
      }),
    );
  }
  return out;
}

function routedLeaves(mask: Mask): string[] {
  if (mask.kind === 'routed') return [printMask(mask)];
  if (mask.kind === 'union' || mask.kind === 'intersect') return mask.terms.flatMap(routedLeaves);
  return [];
}

function blockLegend(grid: BlockGrid, x: number, y: number): string[] {
  const tiles = grid.queryTiles * grid.keyTiles;
  const about = grid.exact ? '' : '≈ ';
  const label: Record<TileClass, string> = {
    empty: 'empty (never visited)',
    partial: 'partial (masked per element)',
    full: 'full (no mask)',
    data: 'routed (chosen at run time)',
  };
  const out: string[] = [];
  let lineY = y;
  for (const cls of TILE_CLASSES) {
    if (cls === 'data' && grid.counts.data === 0) continue;
    out.push(
      ...swatch(
        x,
        lineY,
        COLORS.tile[cls],
        `${label[cls]}: ${about}${grid.counts[cls]} (${pct(grid.counts[cls], tiles)})`,
        cls,
      ),
    );
    lineY += 18;
  }
  out.push(
    text(x, lineY + 4, `${tiles} tiles (${grid.queryTiles} x ${grid.keyTiles})`, {
      cls: 'tile-total',
    }),
  );
  if (grid.rows < grid.queryTiles || grid.cols < grid.keyTiles) {
    out.push(text(x, lineY + 20, 'one cell = several tiles (colours weighted)', { size: 11 }));
  }
  return out;
}
