// The public API of attnc. The CLI is a thin layer over these exports.

export { checkSource, type FrontEndResult } from './frontend.js';
export { parseSpec, type ParseResult } from './syntax/parse.js';
export { checkSpec } from './check/check.js';
export type * from './check/checked.js';
export type * from './syntax/ast.js';
export type { Span } from './base/span.js';
export {
  hasErrors,
  sortDiagnostics,
  type Diagnostic,
  type Label,
  type Severity,
} from './diagnostics/diagnostic.js';
export { DIAGNOSTIC_CODES, type DiagnosticCode } from './diagnostics/codes.js';
export { SourceText, type Position } from './diagnostics/source.js';
export {
  diagnosticToJson,
  renderDiagnostic,
  renderDiagnostics,
  type JsonDiagnostic,
  type RenderOptions,
} from './diagnostics/render.js';

// Compiler and runtime.
export {
  compile,
  resolveTarget,
  TARGET_NAMES,
  type CompiledModule,
  type CompileResult,
  type CompileSourceOptions,
} from './api/compile.js';
export {
  createRuntime,
  type LoadedModule,
  type LoadOptions,
  type Runtime,
  type RuntimeOptions,
} from './api/runtime.js';
export {
  adapterIdentity,
  deviceTuneBench,
  Tuner,
  type CandidateResult,
  type CandidateVerdict,
  type GroupTuning,
  type TimedRun,
  type TuneBench,
  type TuneOptions,
  type TuneResult,
  type TuneStep,
} from './api/tune.js';
export { sizeClassOf, type AdapterIdentity } from './api/tune-cache.js';
export {
  describeSchedule,
  ScheduleError,
  type Schedule,
  type ScheduleOverrides,
} from './passes/schedule.js';
export { scheduleCandidates } from './passes/schedule-candidates.js';
export type { SelfCheckOptions, VariantFallback, VariantName } from './api/variant-check.js';
export { compareOutput, type OutputComparison } from './api/compare-output.js';
export { DeviceError } from './runtime/device-errors.js';
export { checkRunSizes, deviceRunLimits, type RunLimits } from './runtime/loaded-kernel.js';
export {
  mergeByLse,
  reference,
  type AttentionPartial,
  type PartialShape,
  type ReferenceCallInputs,
} from './api/reference.js';
export {
  benchmark,
  denseEquivalentSpec,
  type BenchmarkOptions,
  type BenchmarkResult,
  type Timing,
} from './api/benchmark.js';
export {
  cacheBytesPerKvHead,
  cachePositions,
  formatCacheMemory,
  planKvCache,
  type CacheMemory,
  type CachePlan,
  type CacheProblem,
  type CacheSideTable,
  type CacheStore,
  type GroupCachePlan,
  type GroupCacheResult,
} from './api/kv-cache.js';
export { loadPlan, PlanValidationError, validatePlan, type LoadedPlan } from './api/load-plan.js';
export { acquireDevice, type AcquireOptions, type AcquiredDevice } from './runtime/device.js';
export { AdapterNotFoundError } from './runtime/adapter-not-found.js';
export { moduleFiles, type ModuleFile } from './api/module-files.js';
export { explainModule, EXPLAIN_STAGES, type ExplainOptions } from './explain/explain.js';
export { explainKernels } from './explain/kernels.js';
export { specPicture, type PictureOptions } from './picture/mask-picture.js';
export type * from './codegen/plan.js';
export type {
  LoadedAttention,
  PlannedAttention,
  RunInputs,
  RunOutputs,
} from './runtime/loaded-kernel.js';
export type {
  DeviceRunArgs,
  DeviceRunOptions,
  DeviceTensor,
  DeviceTensors,
} from './runtime/device-tensors.js';
export type { AdapterChoice, DeviceKind } from './runtime/device.js';
export type {
  CacheAppendInputs,
  CacheAppendOptions,
  CacheAttendArgs,
  CacheOptions,
  CacheTensor,
  KvCache,
} from './runtime/cache/kv-cache.js';
export {
  CORE_F16_PROFILE,
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  STATIC_PROFILES,
  type DeviceProfile,
} from './target/profile.js';
