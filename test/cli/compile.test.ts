import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.js';
import type { CliIo } from '../../src/cli/io.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), color: false };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const examples = new URL('../../examples/', import.meta.url).pathname;

describe('attnc compile', () => {
  it('writes the WGSL, the plan and the TypeScript module, deterministically', async () => {
    const a = mkdtempSync(join(tmpdir(), 'attnc-compile-'));
    const b = mkdtempSync(join(tmpdir(), 'attnc-compile-'));
    const spec = join(examples, 'document_mask.attn');
    expect((await cli('compile', spec, '-o', a)).code).toBe(0);
    expect((await cli('compile', spec, '-o', b)).code).toBe(0);
    const files = readdirSync(a).sort();
    expect(files).toEqual([
      'document_mask.decode_merge.wgsl',
      'document_mask.decode_partial.wgsl',
      'document_mask.plan.json',
      'document_mask.segment_ranges.wgsl',
      'document_mask.softmax.wgsl',
      'document_mask.ts',
    ]);
    for (const f of files)
      expect(readFileSync(join(a, f), 'utf8')).toBe(readFileSync(join(b, f), 'utf8'));
    const plan = JSON.parse(readFileSync(join(a, 'document_mask.plan.json'), 'utf8')) as {
      inputs: { name: string }[];
    };
    expect(plan.inputs.map((i) => i.name)).toEqual(['q', 'k', 'v', 'seg_q', 'seg_k']);
    const ts = readFileSync(join(a, 'document_mask.ts'), 'utf8');
    expect(ts).toContain('export function createDocumentMask(device: GPUDevice)');
    expect(ts).toContain('readonly seg_q: Uint32Array;');
  });

  it('reports constructs without kernels yet as E600 at their span, and writes nothing', async () => {
    // f16 storage needs head_dim and value_dim to be multiples of 4.
    const dir = mkdtempSync(join(tmpdir(), 'attnc-compile-'));
    const spec = join(dir, 'half.attn');
    writeFileSync(spec, 'attention half {\n  heads: 2\n  head_dim: 6\n  dtype: f16\n}\n');
    const out = join(dir, 'out');
    const r = await cli('compile', spec, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E600]');
    expect(r.stderr).toContain('half.attn:1:1');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('stops on spec errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attnc-compile-'));
    const spec = join(dir, 'bad.attn');
    writeFileSync(spec, 'attention a { heads: 4; head_dim: 0 }\n');
    const r = await cli('compile', spec, '-o', join(dir, 'out'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[E400]');
  });

  it('usage errors exit 2', async () => {
    expect((await cli('compile', join(examples, 'gqa.attn'))).code).toBe(2);
    const target = await cli(
      'compile',
      join(examples, 'gqa.attn'),
      '-o',
      '/tmp/x',
      '--target',
      'nope',
    );
    expect(target.code).toBe(2);
    expect(target.stderr).toContain('unknown target `nope`');
  });
});

describe('attnc explain', () => {
  it('prints the IR after a pass, tile statistics and a picture', async () => {
    const r = await cli(
      'explain',
      join(examples, 'sliding_window_causal.attn'),
      '--seq',
      '256',
      '--picture',
      '8',
      '--after',
      'canonicalize-mask',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('== mistral_swa: IR after canonicalize-mask');
    expect(r.stdout).toContain('density: 50.2% of scores allowed (32896 of 65536)');
    expect(r.stdout).toContain('never visited');
    expect(r.stdout).toContain(['   +.......', '   #+......', '   ##+.....'].join('\n'));
  });

  it('rejects an unknown pass', async () => {
    const r = await cli('explain', join(examples, 'gqa.attn'), '--after', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown pass `nope`');
  });
});

describe('attnc compile, two attentions of one name', () => {
  it('is an error naming both files and places, and writes nothing for the second', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attnc-clash-'));
    for (const sub of ['a', 'b']) mkdirSync(join(dir, sub));
    const first = join(dir, 'a', 'x.attn');
    const second = join(dir, 'b', 'x.attn');
    writeFileSync(first, 'attention x {\n  heads: 1\n  head_dim: 8\n}\n');
    writeFileSync(second, '# the same name\nattention x {\n  heads: 2\n  head_dim: 4\n}\n');
    const out = join(dir, 'out');
    const r = await cli('compile', first, second, '-o', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        `error[E206]: attention \`x\` is also declared in ${first}:1:11`,
        ` --> ${second}:2:11`,
        '  |',
        '2 | attention x {',
        `  |           ^ its files would overwrite those of ${first}:1:11`,
        '  = help: compile writes x.plan.json, x.ts and its kernels for each; rename one of the two attentions, or compile them into different directories',
        '',
        '',
      ].join('\n'),
    );
    // The first file's output is intact: the second did not overwrite it.
    const alone = join(dir, 'alone');
    expect((await cli('compile', first, '-o', alone)).code).toBe(0);
    expect(readFileSync(join(out, 'x.plan.json'), 'utf8')).toBe(
      readFileSync(join(alone, 'x.plan.json'), 'utf8'),
    );
  });
});
