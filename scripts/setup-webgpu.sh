#!/usr/bin/env bash
# Makes sure this machine has a WebGPU adapter for attnc's kernels (Debian/Ubuntu).
#
# With a hardware GPU adapter present, nothing is needed. Without one, installs Mesa's
# llvmpipe (used through Dawn's OpenGL backend). With --with-swiftshader (CI), also
# installs Debian's chromium, whose SwiftShader Vulkan ICD Dawn's Vulkan backend can use,
# and the Vulkan loader libvulkan1 that Dawn needs to load it. Idempotent: packages
# already installed are not touched, so reruns take a second. See docs/runtime.md.
#
# usage: scripts/setup-webgpu.sh [--with-swiftshader] [--software] [--check]
#   --with-swiftshader  also install SwiftShader (chromium libvulkan1)
#   --software          install llvmpipe even when a hardware adapter exists
#   --check             install nothing; report adapters and missing packages
set -euo pipefail

LLVMPIPE_PKGS=(libegl1 libegl-mesa0 libgl1-mesa-dri)
SWIFTSHADER_PKGS=(chromium libvulkan1)

with_swiftshader=0
force_software=0
check_only=0
for arg in "$@"; do
  case "$arg" in
    --with-swiftshader) with_swiftshader=1 ;;
    --software) force_software=1 ;;
    --check) check_only=1 ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "setup-webgpu: unknown option '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
probe_script="$root_dir/scripts/probe-adapters.mjs"

say() { echo "setup-webgpu: $*"; }

can_probe() {
  command -v node > /dev/null 2>&1 && [ -d "$root_dir/node_modules/webgpu" ]
}

# Dawn prints loader warnings on stderr while probing; they are expected, so hide them.
probe() { (cd "$root_dir" && node "$probe_script" "$@" 2> /dev/null); }

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2> /dev/null || true)" = "install ok installed" ]
}

# 1. Is there a hardware adapter?
hardware=0
if can_probe; then
  if probe --require hardware hardware > /dev/null; then
    hardware=1
    say "hardware WebGPU adapter found: $(probe hardware | sed 's/^hardware *yes *//')"
  else
    say "no hardware WebGPU adapter"
  fi
else
  say "cannot probe adapters (node or node_modules/webgpu missing; run npm install);" \
    "assuming no hardware adapter"
fi

# 2. Which packages does that call for?
wanted=()
if [ "$hardware" = 0 ] || [ "$force_software" = 1 ]; then wanted+=("${LLVMPIPE_PKGS[@]}"); fi
if [ "$with_swiftshader" = 1 ]; then wanted+=("${SWIFTSHADER_PKGS[@]}"); fi

if [ "${#wanted[@]}" -gt 0 ] && ! command -v dpkg-query > /dev/null 2>&1; then
  say "this is not a Debian/Ubuntu system; install your distribution's equivalents of:" \
    "${wanted[*]} (Mesa EGL + llvmpipe; Chromium's SwiftShader + the Vulkan loader)"
  exit 1
fi

missing=()
for pkg in "${wanted[@]}"; do
  if ! is_installed "$pkg"; then missing+=("$pkg"); fi
done

install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"

# 3. Install what is missing.
if [ "${#wanted[@]}" -eq 0 ]; then
  say "nothing to install"
elif [ "${#missing[@]}" -eq 0 ]; then
  say "already installed: ${wanted[*]}"
elif [ "$check_only" = 1 ]; then
  say "missing packages: ${missing[*]}; to install them run:"
  echo "  sudo apt-get update && sudo $install_cmd"
  exit 1
else
  if [ "$(id -u)" = 0 ]; then
    sudo=()
  elif command -v sudo > /dev/null 2>&1 && { sudo -n true 2> /dev/null || [ -t 0 ]; }; then
    sudo=(sudo)
  else
    say "missing packages: ${missing[*]}, and this is neither root nor able to sudo. Run:"
    echo "  sudo apt-get update && sudo $install_cmd"
    exit 1
  fi
  say "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086 # install_cmd is a plain word list built above
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive $install_cmd
  say "installed: ${missing[*]}"
fi

# 4. Check that the adapters now work.
if ! can_probe; then
  say "cannot verify adapters until npm install has run; then: node scripts/probe-adapters.mjs"
  exit 0
fi
required=()
if [ "$hardware" = 0 ] || [ "$force_software" = 1 ]; then required+=(llvmpipe); fi
if [ "$with_swiftshader" = 1 ]; then required+=(swiftshader); fi
if [ "${#required[@]}" -eq 0 ]; then exit 0; fi
kinds="$(
  IFS=,
  echo "${required[*]}"
)"
# pipefail makes the pipeline fail when the probe does, even though sed succeeds.
if probe --require "$kinds" "${required[@]}" | sed 's/^/setup-webgpu:   /'; then
  say "ok: ${required[*]} adapter(s) working"
  exit 0
fi
say "adapter check failed for one of: ${required[*]} (run node scripts/probe-adapters.mjs)"
exit 1
