// Optional WGSL validation for the fuzzer (`--validate-wgsl RATE`): every kernel of a
// compiled input goes through Dawn's null backend, which runs the full Tint front end and
// reports shader errors without a GPU. This is what catches output the compiler produced
// without complaint but no device would accept (an i32 literal out of range, ...).
//
// Dawn runs in a process of its own, a child of the fuzz worker, fed one shader per line
// on stdin and answering on stdout. Not over Node's IPC channel: with one open, the
// `webgpu` addon's null device aborts on its second shader ("std::system_error: Invalid
// argument", or a pthread mutex assertion); in the fuzz worker itself it crashed likewise
// after some hundreds. A crash costs only the child: it is restarted and the shader
// validated again; a shader that crashes it twice is reported.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CompileResult } from '../../src/api/compile.js';

/** Set in the environment of the validator process (the worker's own bundle, in this role). */
export const VALIDATOR_ROLE_ENV = 'ATTNC_FUZZ_WGSL_VALIDATOR';

export interface WgslProblem {
  readonly message: string;
  readonly detail: string;
}

export interface WgslValidator {
  validate(result: CompileResult): Promise<WgslProblem | null>;
  destroy(): void;
}

type Request = { readonly id: number; readonly code: string };
type Reply =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly errors: readonly string[] }
  | { readonly type: 'fatal'; readonly message: string };

/** Marks the validator's replies on its stdout (anything else there is ignored). */
const REPLY = 'attnc-wgsl-reply ';

/** In the worker: a validator backed by a child process running `serveWgslValidation`. */
export function createWgslValidator(): WgslValidator {
  let child: ChildProcess | null = null;
  let ready: Promise<void> | null = null;
  let nextId = 0;
  const pending = new Map<number, (reply: readonly string[] | 'crashed') => void>();

  const start = () => {
    const process_ = spawn(process.execPath, [process.argv[1]!], {
      env: { ...process.env, [VALIDATOR_ROLE_ENV]: '1' },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    child = process_;
    ready = new Promise((resolve, reject) => {
      createInterface({ input: process_.stdout! }).on('line', (line) => {
        if (!line.startsWith(REPLY)) return;
        const reply = JSON.parse(line.slice(REPLY.length)) as Reply;
        if (reply.type === 'ready') resolve();
        else if (reply.type === 'fatal') reject(new Error(`WGSL validator: ${reply.message}`));
        else pending.get(reply.id)?.(reply.errors);
      });
      process_.stdin!.on('error', () => {}); // a write after a crash: the exit handler reports it
      process_.on('exit', () => {
        if (child === process_) child = null;
        reject(new Error('the WGSL validator process exited while starting'));
        for (const [id, settle] of pending) {
          pending.delete(id);
          settle('crashed');
        }
      });
    });
  };

  const check = async (code: string): Promise<readonly string[] | 'crashed'> => {
    if (!child) start();
    await ready;
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, (reply) => {
        pending.delete(id);
        resolve(reply);
      });
      child!.stdin!.write(`${JSON.stringify({ id, code } satisfies Request)}\n`);
    });
  };

  return {
    async validate(result) {
      for (const m of result.modules) {
        for (const kernel of m.plan.kernels) {
          let errors = await check(kernel.wgsl);
          if (errors === 'crashed') errors = await check(kernel.wgsl); // a fresh process
          const where = `kernel ${m.name}.${kernel.name} (${m.profile})`;
          if (errors === 'crashed') {
            return {
              message: `${where}: Dawn's null backend crashed twice validating it`,
              detail: kernel.wgsl.slice(0, 4000),
            };
          }
          if (errors.length > 0) {
            return {
              message: `${where} is not valid WGSL: ${errors[0]}`,
              detail: errors.join('\n'),
            };
          }
        }
      }
      return null;
    },
    destroy() {
      child?.kill('SIGKILL');
      child = null;
    },
  };
}

/** In the validator process: validates each shader it is sent on Dawn's null device. */
export async function serveWgslValidation(): Promise<void> {
  const send = (reply: Reply) => process.stdout.write(`${REPLY}${JSON.stringify(reply)}\n`);
  try {
    const { create, globals } = await import('webgpu');
    Object.assign(globalThis, globals);
    const gpu = create(['backend=null']);
    const adapter = await gpu.requestAdapter();
    if (!adapter) throw new Error("Dawn's null backend gave no adapter");
    // Every feature the null adapter has, so `enable f16;` and `enable subgroups;` validate.
    const device = await adapter.requestDevice({
      requiredFeatures: [...adapter.features] as GPUFeatureName[],
    });
    send({ type: 'ready' });
    for await (const line of createInterface({ input: process.stdin })) {
      const request = JSON.parse(line) as Request;
      device.pushErrorScope('validation');
      const module = device.createShaderModule({ code: request.code });
      const info = await module.getCompilationInfo();
      const scopeError = await device.popErrorScope();
      const errors = info.messages
        .filter((x) => x.type === 'error')
        .map((e) => `${e.lineNum}:${e.linePos}: ${e.message}`);
      if (errors.length === 0 && scopeError) errors.push(scopeError.message);
      send({ type: 'result', id: request.id, errors });
    }
  } catch (error) {
    send({ type: 'fatal', message: (error as Error)?.message ?? String(error) });
  }
  // stdin closed (the worker is gone) or startup failed: leave at once; a plain exit can
  // hang on Dawn's threads.
  process.kill(process.pid, 'SIGKILL');
}
