#!/usr/bin/env bash
# One command from a fresh clone: installs what attnc needs (npm packages, a software WebGPU
# adapter when the machine has no GPU), builds it, and runs the main job on the examples.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== npm packages"
npm ci --no-audit --no-fund

if [ -f scripts/setup-webgpu.sh ]; then
  echo "== WebGPU adapter"
  bash scripts/setup-webgpu.sh
fi

echo "== build"
npm run build

echo "== attnc check examples/*.attn"
node dist/cli/main.js check examples/*.attn
