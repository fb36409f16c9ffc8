// The shape of the demo's decoder-only language model, and the attention spec of each layer.
// One value describes the model for all three implementations (the CPU model, the tfjs +
// attnc model in Node, the same in a browser page), so a test can build all of them from it.

export interface DecodeModelConfig {
  /** Tokens are bytes. */
  readonly vocab: number;
  readonly dModel: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Width of the SwiGLU MLP's hidden layer. */
  readonly mlpHidden: number;
  /** Look-back of the windowed layers (every layer but the last): `window(left: window)`. */
  readonly window: number;
  /** Attention sinks of the windowed layers: `sink(sinks)`. */
  readonly sinks: number;
  readonly ropeTheta: number;
  readonly normEpsilon: number;
}

export const DEFAULT_MODEL: DecodeModelConfig = {
  vocab: 256,
  dModel: 128,
  layers: 4,
  heads: 4,
  kvHeads: 2,
  headDim: 32,
  mlpHidden: 256,
  window: 256,
  sinks: 4,
  ropeTheta: 10000,
  normEpsilon: 1e-5,
};

/** Whether layer `layer` is windowed with sinks (all but the last) or global causal. */
export function isWindowedLayer(config: DecodeModelConfig, layer: number): boolean {
  return layer < config.layers - 1;
}

/**
 * The attention of one layer as an .attn spec. `layout: bnhd` because a projection
 * `x [T, dModel] @ W [dModel, heads * headDim]` is `[B = 1, T, heads, headDim]` in memory.
 */
export function layerSpec(config: DecodeModelConfig, layer: number): string {
  const mask = isWindowedLayer(config, layer)
    ? `\n  mask: window(left: ${config.window}) | sink(${config.sinks})`
    : '';
  return `attention layer${layer} {
  heads: ${config.heads}
  kv_heads: ${config.kvHeads}
  head_dim: ${config.headDim}
  layout: bnhd
  causal: true${mask}
}
`;
}

/** Throws naming the first field that cannot make a model. */
export function checkModelConfig(config: DecodeModelConfig): void {
  const positive: (keyof DecodeModelConfig)[] = [
    'vocab',
    'dModel',
    'layers',
    'heads',
    'kvHeads',
    'headDim',
    'mlpHidden',
    'window',
    'sinks',
  ];
  for (const name of positive) {
    const value = config[name];
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`model config: ${name} must be a positive integer, got ${value}`);
    }
  }
  if (config.heads % config.kvHeads !== 0) {
    throw new Error(
      `model config: heads (${config.heads}) must be a multiple of kvHeads (${config.kvHeads})`,
    );
  }
  if (config.headDim % 2 !== 0) {
    throw new Error(`model config: headDim must be even for RoPE, got ${config.headDim}`);
  }
  if (config.vocab > 256) {
    throw new Error(`model config: vocab is at most 256 (tokens are bytes), got ${config.vocab}`);
  }
}
