// How the runtime hears about device errors. WebGPU reports them asynchronously and, unless
// something listens, only to a console: a rejected shader or an over-limit buffer then
// leaves a pipeline or buffer that silently computes nothing. So every piece of device work
// the runtime does runs inside error scopes (`withErrorScopes`), and one watch per device
// (`watchDevice`) records a device loss and every error no scope captured, so the next call
// on that device fails with it instead of returning zeros.

/** A device error, rethrown with what the runtime was doing when the device raised it. */
export class DeviceError extends Error {
  override readonly name = 'DeviceError';
  /**
   * `operation`: the work named in the message caused it (a rejected kernel, a refused
   * buffer). `device`: the device was lost or destroyed, or reported an error of someone
   * else's work; the operation itself may be fine.
   */
  readonly origin: 'operation' | 'device';

  constructor(message: string, origin: 'operation' | 'device' = 'operation') {
    super(message);
    this.origin = origin;
  }
}

interface DeviceWatch {
  /** Why the device can no longer be used; null while it can. */
  unusable: string | null;
  /** Errors that reached `uncapturederror` and were not yet reported to a caller. */
  readonly uncaptured: string[];
}

const watches = new WeakMap<GPUDevice, DeviceWatch>();

/**
 * Starts watching `device` (once per device): a loss marks it unusable for good, and an
 * uncaptured error is kept for the next call to report. The event is not cancelled, so the
 * platform still prints it too (Dawn to stdout, a browser to its console).
 */
export function watchDevice(device: GPUDevice): void {
  if (watches.has(device)) return;
  const watch: DeviceWatch = { unusable: null, uncaptured: [] };
  watches.set(device, watch);
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    watch.uncaptured.push(`${errorKind(error)}: ${error.message.trim()}`);
  });
  void device.lost.then((info) => {
    watch.unusable ??=
      info.reason === 'destroyed'
        ? 'it was destroyed (device.destroy())'
        : `it was lost (${info.reason}): ${info.message.trim() || 'no message'}`;
  });
}

/**
 * Throws when the device was lost or destroyed, or when it raised errors nobody captured
 * since the last call (they are reported once, here). `what` names the caller's work.
 */
export function assertDeviceUsable(device: GPUDevice, what: string): void {
  const watch = watches.get(device);
  if (!watch) return;
  if (watch.unusable !== null) {
    throw new DeviceError(`${what}: the device cannot be used: ${watch.unusable}`, 'device');
  }
  if (watch.uncaptured.length > 0) {
    const errors = watch.uncaptured.splice(0);
    throw new DeviceError(
      `${what}: the device reported ${errors.length === 1 ? 'an error' : `${errors.length} errors`} ` +
        `outside any runtime call (e.g. from a command encoder given to encode()):\n` +
        errors.map((e) => `  ${e}`).join('\n'),
      'device',
    );
  }
}

/** The scopes every piece of runtime work is wrapped in. */
const SCOPES: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/**
 * Runs `body` (synchronous device calls only: scopes capture what is called while they are
 * pushed) inside validation, out-of-memory and internal error scopes. Returns `body`'s result
 * and a promise of the first error the device raised, or null. A throw from `body` still
 * pops the scopes, so the device's scope stack stays balanced.
 */
export function withErrorScopes<T>(
  device: GPUDevice,
  body: () => T,
): { readonly value: T; readonly error: Promise<string | null> } {
  for (const filter of SCOPES) device.pushErrorScope(filter);
  let value: T;
  try {
    value = body();
  } catch (thrown) {
    void popScopes(device);
    throw thrown;
  }
  return { value, error: popScopes(device) };
}

function popScopes(device: GPUDevice): Promise<string | null> {
  const popped = SCOPES.map(() => device.popErrorScope());
  return Promise.all(popped).then(
    (errors) => {
      const first = errors.find((e) => e !== null);
      return first ? `${errorKind(first)}: ${first.message.trim()}` : null;
    },
    // A lost device rejects popErrorScope; the loss itself is reported by the watch.
    (reason: unknown) => `the device could not report errors: ${String(reason)}`,
  );
}

const ERROR_KINDS: Readonly<Record<string, string>> = {
  GPUValidationError: 'validation error',
  GPUOutOfMemoryError: 'out of memory',
  GPUInternalError: 'internal error',
};

function errorKind(error: GPUError): string {
  const name = (error as { constructor?: { name?: string } }).constructor?.name ?? '';
  return ERROR_KINDS[name] ?? 'device error';
}
