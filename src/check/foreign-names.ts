// The names users of other tools (PyTorch SDPA, Hugging Face configs, FlexAttention, xformers,
// FlashAttention) try first, and what attnc calls them. An unknown name found here gets the
// fix written out instead of a bare "unknown": edit distance cannot find `heads` from
// `num_heads`, nor `segment` from `document`. (attnc's own names in the wrong place, such as
// `window: 4`, are names.ts's business.)

import type { PropertyName } from './property-values.js';

export interface ForeignName {
  /** The attnc property it stands for, when there is one (so nothing is "missing" after it). */
  readonly property?: PropertyName;
  /** The fix, as a help note. */
  readonly note: string;
}

const PREFIX_LM_NOTE =
  'a prefix LM is `mask: causal | sink(P)` with P the prefix length: the prefix sees itself ' +
  'both ways, later positions see the prefix and their past (leave `causal: true` unset, ' +
  'it would cut the prefix back to causal)';

const property = (names: readonly string[], name: PropertyName, note: string) =>
  names.map((n) => [n, { property: name, note }] as const);
const hint = (names: readonly string[], note: string) => names.map((n) => [n, { note }] as const);

export const FOREIGN_PROPERTIES: ReadonlyMap<string, ForeignName> = new Map([
  ...property(
    ['num_heads', 'n_heads', 'n_head', 'nhead', 'num_attention_heads', 'num_q_heads'],
    'heads',
    'the number of heads is `heads`: write `heads: N`',
  ),
  ...property(
    ['num_kv_heads', 'n_kv_heads', 'num_key_value_heads', 'kv_head_count'],
    'kv_heads',
    'the number of key/value heads is `kv_heads`: write `kv_heads: N`',
  ),
  ...property(
    ['head_size', 'd_head', 'dim_head', 'd_k', 'head_dimension'],
    'head_dim',
    'the width of a query/key head is `head_dim`: write `head_dim: D`',
  ),
  ...property(
    ['d_v', 'v_head_dim', 'value_head_dim'],
    'value_dim',
    'the width of a value head is `value_dim`: write `value_dim: D`',
  ),
  ...property(['is_causal'], 'causal', 'write `causal: true`'),
  ...property(
    ['softmax_scale', 'sm_scale', 'scaling'],
    'scale',
    'the score scale is `scale`: write `scale: 0.125`, or `scale: auto` for 1 / sqrt(head_dim)',
  ),
  ...property(
    ['logit_softcapping', 'attn_logit_softcapping', 'softcapping', 'soft_cap'],
    'softcap',
    'write `softcap: 50`',
  ),
  ...property(
    ['max_seq_len', 'max_seqlen', 'max_position_embeddings', 'seq_len', 'max_len'],
    'max_seq',
    'the longest sequence is `max_seq`: write `max_seq: N`',
  ),
  ...hint(['use_alibi', 'alibi_slopes'], 'ALiBi is a score bias: write `bias: alibi`'),
  ...hint(
    ['sliding_window', 'window_size', 'local_window', 'attention_window'],
    'a sliding window is a mask: write `mask: window(N)` (or `window(left: L, right: R)`)',
  ),
  ...hint(
    ['document', 'documents', 'document_mask', 'doc_mask', 'segment_ids', 'seq_ids'],
    'attention within documents is a mask: write `mask: segment` (ids are the run-time inputs `seg_q` and `seg_k`)',
  ),
  ...hint(['prefix_lm', 'prefix_length', 'prefix_len'], PREFIX_LM_NOTE),
  ...hint(
    ['sink_tokens', 'attention_sinks', 'num_sink_tokens', 'sinks'],
    'attention sinks are a mask: write `mask: sink(N) | window(W)`',
  ),
  ...hint(
    ['dropout', 'attn_dropout', 'dropout_p'],
    'attnc computes inference attention: there is no dropout',
  ),
]);

export const FOREIGN_PRIMITIVES: ReadonlyMap<string, string> = new Map([
  ...(['sliding_window', 'local', 'local_window', 'swa', 'window_mask'] as const).map(
    (n) => [n, 'a sliding window is `window(N)` or `window(left: L, right: R)`'] as const,
  ),
  ...(['document', 'documents', 'document_mask', 'doc', 'segments'] as const).map(
    (n) => [n, 'attention within documents is `segment`, written bare'] as const,
  ),
  ['prefix_lm', PREFIX_LM_NOTE],
  ['prefix', PREFIX_LM_NOTE],
  ['causal_mask', 'write `causal`'],
  ['tril', 'the lower triangle is `causal`'],
  ...(['dilated_window', 'dilated_sliding_window'] as const).map(
    (n) => [n, 'a dilated window is `dilated(width, dilation)`'] as const,
  ),
  ['strided', 'a strided pattern is `stride(step)`'],
  ...(['attention_sink', 'sinks', 'streaming'] as const).map(
    (n) => [n, 'attention sinks are `sink(count)`, usually `sink(4) | window(W)`'] as const,
  ),
  ...(['global_tokens', 'cls'] as const).map(
    (n) => [n, 'global tokens are `global(first)` or `global(positions: [...])`'] as const,
  ),
  ...(['block_diagonal', 'block_local', 'chunked'] as const).map(
    (n) => [n, 'attention within fixed blocks is `blocks(size)`'] as const,
  ),
  ...(['moba', 'top_k', 'block_topk'] as const).map(
    (n) => [n, 'learned block selection (MoBA) is `topk(k, block: b)`'] as const,
  ),
  ['bidirectional', 'attention to every position is `full`'],
  ['none', 'attention to every position is `full`; a mask that allows nothing is never useful'],
]);
