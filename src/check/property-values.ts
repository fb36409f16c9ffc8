// What each property of language.md section 3 reads to: the value types of the property table
// (properties.ts), apart from the table so that foreign-names.ts, which names properties, and
// properties.ts, which reports foreign names, need not import each other.

import type { DType, FeatureMap, Layout, LowRank, MaskNode } from './checked.js';
import type { HeadRouting } from './mechanisms.js';

export interface PropertyValues {
  heads: number;
  kv_heads: number;
  head_dim: number;
  value_dim: number;
  causal: boolean;
  scale: number | 'auto';
  mask: MaskNode;
  kernel: FeatureMap;
  lowrank: LowRank;
  softcap: number;
  bias: 'alibi';
  head_routing: HeadRouting;
  max_seq: number;
  layout: Layout;
  dtype: DType;
}

export type PropertyName = keyof PropertyValues;
