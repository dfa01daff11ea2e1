#!/usr/bin/env bash
# The system packages the e2e test tier needs, installed before the tests run (`npm test`,
# `npm run test:e2e`), so that the README's test command passes on a fresh Debian machine:
#   chromium              the browser tests drive Debian's chromium through playwright-core
#                         (no browser download: only the package registries are reachable)
#   mesa-vulkan-drivers,  the GPU runner's tests run WebGPU in Deno on a software Vulkan adapter
#   libvulkan1            (lavapipe) where the machine has no GPU
# Installs them with apt-get when it can (as root, or with passwordless sudo); otherwise stops at
# once and prints the exact command. Does nothing when they are all there.
set -euo pipefail

PACKAGES=(chromium mesa-vulkan-drivers libvulkan1 clang lld)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
else
  echo "test set-up: this is not a Debian-based system (no dpkg-query); the e2e tests need: ${PACKAGES[*]} (Debian names)." >&2
  echo "test set-up: install their equivalents by hand, then run the tests again." >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

command="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "test set-up: missing Debian packages: ${missing[*]}. Install them, then run the tests again:" >&2
  echo "  sudo sh -c '$command'" >&2
  echo "  (or, where there is no sudo, as root: su -c '$command')" >&2
  exit 1
fi
echo "test set-up: installing ${missing[*]} (apt-get)" >&2
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
