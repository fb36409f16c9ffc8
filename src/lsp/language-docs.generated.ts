// Generated from docs/language.md by `npm run lsp-docs` (scripts/gen-language-docs.ts).
// Do not edit: change the docs and regenerate; test/lsp/language-docs.test.ts fails when stale.

import type { LanguageDocs } from './docs-tables.js';

export const LANGUAGE_DOCS: LanguageDocs = {
  properties: {
    heads: {
      value: 'integer >= 1',
      default: 'required, unless every group has (or inherits) one',
      inGroup: 'yes',
    },
    kv_heads: {
      value: 'integer >= 1, must divide `heads`',
      default: '`heads`',
      inGroup: 'yes',
    },
    head_dim: {
      value: 'integer 1..256',
      default: 'required',
      inGroup: 'no',
    },
    value_dim: {
      value: 'integer 1..256',
      default: '`head_dim`',
      inGroup: 'no',
    },
    causal: {
      value: 'bool',
      default: '`false`',
      inGroup: 'yes',
    },
    scale: {
      value: '`auto` or a number > 0',
      default: '`auto` = `1 / sqrt(head_dim)`',
      inGroup: 'yes',
    },
    mask: {
      value: 'mask expression (section 5)',
      default: '`full`',
      inGroup: 'yes',
    },
    kernel: {
      value: '`elu1`, `relu`, `favor(features, seed: s)`',
      default: 'none',
      inGroup: 'yes',
    },
    lowrank: {
      value: '`linformer(rank)`, `nystrom(landmarks, iters: k)`',
      default: 'none',
      inGroup: 'yes',
    },
    softcap: {
      value: 'number > 0',
      default: 'none',
      inGroup: 'yes',
    },
    bias: {
      value: '`alibi`',
      default: 'none',
      inGroup: 'yes',
    },
    head_routing: {
      value: '`top(k)`, 1 <= k <= heads',
      default: 'none',
      inGroup: 'no',
    },
    max_seq: {
      value: 'integer >= 1',
      default: 'none (required by `linformer`)',
      inGroup: 'no',
    },
    layout: {
      value: '`bhnd` or `bnhd`',
      default: '`bhnd`',
      inGroup: 'no',
    },
    dtype: {
      value: '`f32` or `f16`',
      default: '`f32`',
      inGroup: 'no',
    },
  },
  primitives: {
    full: [
      {
        form: 'full',
        arguments: 'none; bare or `full()`',
        ranges: '',
      },
    ],
    causal: [
      {
        form: 'causal',
        arguments: 'none; bare or `causal()`',
        ranges: '',
      },
    ],
    window: [
      {
        form: 'window(width)',
        arguments: '`width`: required',
        ranges: '>= 0',
      },
      {
        form: 'window(left: a, right: b)',
        arguments: '`left`, `right`: at least one; the missing side is 0',
        ranges: '>= 0',
      },
    ],
    dilated: [
      {
        form: 'dilated(width, dilation)',
        arguments: 'both required',
        ranges: 'width >= 0, dilation >= 1, width * dilation <= 2^31 - 1',
      },
    ],
    stride: [
      {
        form: 'stride(step)',
        arguments: 'required',
        ranges: '>= 1',
      },
    ],
    global: [
      {
        form: 'global(t1, t2, ...)',
        arguments: 'positions, at least one unless `first` is given',
        ranges: '>= 0',
      },
      {
        form: 'global(first: g)',
        arguments: '`first`, may be combined with positions',
        ranges: '>= 1',
      },
    ],
    sink: [
      {
        form: 'sink(count)',
        arguments: 'required',
        ranges: '>= 1',
      },
    ],
    blocks: [
      {
        form: 'blocks(size)',
        arguments: 'required',
        ranges: '>= 1',
      },
    ],
    random: [
      {
        form: 'random(count, block: b, seed: s)',
        arguments: '`count` required; `block: 64`, `seed: 0` **(attnc)**',
        ranges: 'count, block >= 1; seed 0..2^32 - 1',
      },
    ],
    segment: [
      {
        form: 'segment',
        arguments: 'none; bare or `segment()`',
        ranges: '',
      },
    ],
    topk: [
      {
        form: 'topk(k, block: b)',
        arguments: '`k` required; `block: 64` **(attnc)**',
        ranges: '>= 1',
      },
    ],
    cluster: [
      {
        form: 'cluster(count)',
        arguments: 'required',
        ranges: '>= 1',
      },
    ],
    lsh: [
      {
        form: 'lsh(buckets: n, seed: s)',
        arguments: '`buckets` required (named); `seed: 0` **(attnc)**',
        ranges: 'buckets even, >= 2; seed 0..2^32 - 1',
      },
    ],
  },
  mechanisms: {
    kernel: {
      forms: '`elu1`, `relu`, `favor(features, seed: s)`',
      defaults: '`seed: 0` **(attnc)**',
      ranges: 'features 1..16384 **(attnc)**',
    },
    lowrank: {
      forms: '`linformer(rank)`, `nystrom(landmarks, iters: k)`',
      defaults: '`iters: 6`',
      ranges: 'rank >= 1; landmarks 1..1024, iters 1..100 **(attnc)**',
    },
    bias: {
      forms: '`alibi`',
      defaults: '',
      ranges: '',
    },
    head_routing: {
      forms: '`top(k)`',
      defaults: '',
      ranges: '1 <= k <= heads',
    },
  },
};
