// The CPU reference: an independent, plain evaluator of language.md, the spec's executable
// form. Tests compare every kernel with it and `attnc run --verify` calls it.

export { referenceAttention, referenceAttentionWithLse } from './attention.js';
export { mergeByLse, type AttentionPartial, type PartialShape } from './log-sum-exp.js';
export { type ReferenceInputs, validateInputs, maskPrimitives } from './inputs.js';
export {
  allowedPositional,
  maskGrid,
  MaskEvaluator,
  type MaskContext,
  type MaskGridInputs,
  type PositionalMask,
} from './mask.js';
export { clusterOf, keyBlockMeans, lshBucket, lshProjection, topkBlocks } from './data-masks.js';
export { alibiSlope, softmaxAttention, softmaxAttentionWithLse } from './softmax-attention.js';
export {
  featureFunction,
  kernelizedAttention,
  LINEAR_EPSILON,
  linearMaskIsCausal,
} from './kernelized.js';
export { lowRankAttention, nystromPseudoInverse, segmentMeans } from './lowrank.js';
export { headRoutingWeights } from './head-routing.js';
export { roundToF16 } from './f16.js';
