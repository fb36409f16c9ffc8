// `attnc/runtime`: what a generated module or an app needs to run a compiled plan, and nothing
// of the compiler (no parser, no checker, no codegen), so a browser bundle stays small. The
// full API (`attnc`) re-exports all of it. test/package/runtime-bundle.test.ts keeps
// chevrotain and the compiler out of a bundle of this entry.

export { loadPlan, PlanValidationError, validatePlan, type LoadedPlan } from './api/load-plan.js';
// Without the variant self-check, which compiles probe kernels: `attnc`'s createRuntime has it.
export { createRuntime, type Runtime, type RuntimeOptions } from './api/runtime-core.js';
export {
  acquireDevice,
  type AcquireOptions,
  type AcquiredDevice,
  type AdapterChoice,
  type DeviceKind,
} from './runtime/device.js';
export { AdapterNotFoundError } from './runtime/adapter-not-found.js';
export type {
  LoadedAttention,
  PlannedAttention,
  RunInputs,
  RunOutputs,
} from './runtime/loaded-kernel.js';
export type * from './codegen/plan.js';
export type {
  CacheAppendInputs,
  CacheAppendOptions,
  CacheAttendArgs,
  CacheOptions,
  CacheTensor,
  KvCache,
} from './runtime/cache/kv-cache.js';
export type { CheckedAttention, CheckedGroup } from './check/checked.js';
export {
  CORE_F16_PROFILE,
  CORE_PROFILE,
  LLVMPIPE_PROFILE,
  PORTABLE_PROFILE,
  SWIFTSHADER_PROFILE,
  STATIC_PROFILES,
  type DeviceProfile,
} from './target/profile.js';
