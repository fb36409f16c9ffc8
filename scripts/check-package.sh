#!/usr/bin/env bash
# Installs attnc as a user would and uses it: packs the package (`npm pack`, which builds
# it), installs the tarball in fresh temporary projects, and checks that
#   - a default (CommonJS) project can require('attnc') and require('attnc/runtime');
#   - an ES module project imports the API and the runtime entry, compiles a spec, runs it
#     on llvmpipe and matches the CPU reference, and runs a generated module through
#     attnc/runtime alone;
#   - the CLI runs from the install (check, compile, run --verify) without Dawn's noise;
#   - without the optional `webgpu` package, compiling works and asking for a Node adapter
#     says to install it.
# Needs the llvmpipe adapter (scripts/setup-webgpu.sh). Called by .ci/run as one step.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm_install() { npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@"; }

echo "== npm pack"
tarball="$work/$(npm pack --pack-destination "$work" --loglevel=error | tail -n 1)"
webgpu_version=$(node -p "require('./package.json').peerDependencies.webgpu")

echo "== a CommonJS project without webgpu"
mkdir "$work/cjs" && cd "$work/cjs"
npm init -y >/dev/null
npm_install "$tarball"
node -e "
  const attnc = require('attnc');
  const runtime = require('attnc/runtime');
  const result = attnc.compile('attention a { heads: 2; head_dim: 8; mask: causal; }');
  if (result.diagnostics.length || result.modules.length !== 1) throw new Error('compile failed');
  if (typeof runtime.loadPlan !== 'function') throw new Error('attnc/runtime has no loadPlan');
  runtime.acquireDevice({ adapter: 'llvmpipe' }).then(
    () => { console.error('acquireDevice worked without webgpu'); process.exit(1); },
    (e) => {
      if (e.name !== 'WebGPUPackageMissingError' || !/npm install webgpu/.test(e.message)) throw e;
      console.log('require works; without webgpu: ' + e.message);
    },
  );
"

echo "== an ES module project with webgpu"
mkdir "$work/esm" && cd "$work/esm"
npm init -y >/dev/null
npm pkg set type=module
npm_install "$tarball" "webgpu@$webgpu_version"
cat > spec.attn <<'SPEC'
attention longformer {
  heads: 2
  head_dim: 16
  mask: window(8) | global(first: 2)
}
SPEC
cat > app.js <<'APP'
import { readFileSync } from 'node:fs';
import { compile, createRuntime, reference } from 'attnc';
import { acquireDevice, loadPlan } from 'attnc/runtime';

const text = readFileSync('spec.attn', 'utf8');
const { modules, diagnostics } = compile(text, { file: 'spec.attn' });
if (diagnostics.length) throw new Error(diagnostics.map((d) => d.message).join('\n'));
const module = modules[0];
const n = 50;
const values = (seed) => Float32Array.from({ length: 2 * n * 16 }, (_, i) => Math.sin(i * seed));
const inputs = { q: values(1.1), k: values(2.3), v: values(3.7) };
const expected = reference(module, inputs).o;
const maxError = (o) => o.reduce((m, x, i) => Math.max(m, Math.abs(x - expected[i])), 0);

const runtime = await createRuntime({ adapter: 'llvmpipe' });
const kernel = await runtime.load(module);
const api = maxError((await kernel.run(inputs)).o);
runtime.destroy();

// The runtime entry alone, with a plan as a generated module exports it.
const device = await acquireDevice({ adapter: 'llvmpipe' });
const loaded = loadPlan(device.device, JSON.parse(JSON.stringify({ name: module.name, plan: module.plan })));
const runtimeOnly = maxError((await loaded.run(inputs)).o);
device.destroy();

console.log(`max abs error vs reference: API ${api}, attnc/runtime ${runtimeOnly}`);
if (!(api < 1e-4 && runtimeOnly < 1e-4)) process.exit(1);
process.exit(0);
APP
node app.js

echo "== the CLI from the install"
npx attnc check spec.attn
npx attnc compile spec.attn -o out
grep -q "from 'attnc/runtime'" out/longformer.ts
npx attnc run spec.attn --seq 64 --adapter llvmpipe --verify 2>stderr.txt
if grep -q "artificially reduced" stderr.txt; then
  echo "Dawn's warnings reached the CLI's stderr:" && cat stderr.txt && exit 1
fi
cat stderr.txt
echo "package check passed"
