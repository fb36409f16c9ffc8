#!/usr/bin/env bash
# One command from a fresh clone: installs what attnc needs (npm packages, a software WebGPU
# adapter when the machine has no GPU), builds it, and runs the main job on the examples:
# check them all, compile them, and run one on the device against the CPU reference.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm packages"
npm ci --no-audit --no-fund

echo "== WebGPU adapter"
bash scripts/setup-webgpu.sh

echo "== build"
npm run build

echo "== attnc check examples/*.attn"
node dist/cli/main.js check examples/*.attn

out=$(mktemp -d)
echo "== attnc compile examples/longformer.attn examples/document_mask.attn -o $out"
node dist/cli/main.js compile examples/longformer.attn examples/document_mask.attn -o "$out"

echo "== attnc run examples/longformer.attn --seq 1024 --verify"
node dist/cli/main.js run examples/longformer.attn --seq 1024 --verify
