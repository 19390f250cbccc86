#!/usr/bin/env bash
# One idempotent setup for every entry point (npm run demo, npm test, CI):
# Debian packages when missing and possible, `npm ci` when node_modules is stale, then the build.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }
# Whether every named Debian package is installed (false where dpkg is absent).
installed() {
  command -v dpkg-query >/dev/null 2>&1 || return 1
  local package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || return 1
  done
}

# Installs those of the named Debian packages that are missing, where root or sudo allows; otherwise
# prints the apt-get line and why going on without them is fine.
apt_install() {
  local consequence=$1 package
  shift
  command -v dpkg-query >/dev/null 2>&1 || return 0
  local missing=()
  for package in "$@"; do
    installed "$package" || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  local apt_get=()
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get)
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then apt_get=(sudo apt-get)
  fi
  if ((${#apt_get[@]})) && { "${apt_get[@]}" update -qq && DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "${missing[@]}"; } >&2; then
    say "installed ${missing[*]}"
  else
    say "could not install ${missing[*]}; run: sudo apt-get install -y ${missing[*]}"
    say "continuing: $consequence"
  fi
}

apt_install "the native backend and Fashion-MNIST experiments need them" libdnnl-dev libopenblas-dev dataset-fashion-mnist
# pn sweep runs its queue (BullMQ) on a private redis-server; pn sweep --queue and pn worker use any Redis.
apt_install "pn sweep needs a Redis: without redis-server give it --queue redis://host:port (its tests are skipped)" redis-server
# The PyTorch side of `pn bench`, only for `npm run bench` (setup.sh --bench): without
# libopenblas0-pthread PyTorch falls back to the reference BLAS and every comparison is unfair.
if [ "${1:-}" = --bench ]; then
  apt_install "pn bench leaves the PyTorch column empty" python3-torch libopenblas0-pthread
fi
# On its own, so that where chromium cannot be installed the packages above still are.
apt_install "the explorer's browser tests are skipped without /usr/bin/chromium" chromium

# npm ci only when package-lock.json changed since the last install.
stamp=node_modules/.setup-lock-hash
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_hash" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund >&2
  echo "$lock_hash" >"$stamp"
fi

npx --no-install tsc -b packages/tfjs-backend-onednn packages/persistent-neurons packages/cli packages/explorer >&2

# The explorer page (vite), rebuilt when it or the library it bundles is newer than the last build.
explorer=packages/explorer
explorer_page=$explorer/dist/web/index.html
if [ ! -f "$explorer_page" ] || [ -n "$(find "$explorer/src" "$explorer/index.html" "$explorer/vite.config.ts" packages/persistent-neurons/dist/src -newer "$explorer_page" -print -quit)" ]; then
  npm run --silent -w persistent-neurons-explorer build >&2
fi

# The native addon of tfjs-backend-onednn (npm ci builds it too, through binding.gyp), rebuilt when
# it is missing or older than its sources. Without it the backend registers nothing and tfjs stays on cpu.
native_dir=packages/tfjs-backend-onednn
native_addon=$native_dir/build/Release/onednn_backend.node
if installed libdnnl-dev libopenblas-dev || [ -f /usr/include/dnnl.hpp ]; then
  if [ ! -f "$native_addon" ] || [ -n "$(find "$native_dir/native" "$native_dir/binding.gyp" -newer "$native_addon" -print -quit)" ]; then
    native_log=${TMPDIR:-/tmp}/tfjs-backend-onednn-build.log
    if npm run --silent -w tfjs-backend-onednn build:native >"$native_log" 2>&1; then
      say "built the tfjs-backend-onednn native addon"
    else
      say "could not build the tfjs-backend-onednn native addon (log: $native_log); continuing on the cpu backend"
    fi
  fi
else
  say "libdnnl-dev/libopenblas-dev missing: skipping the tfjs-backend-onednn native addon"
fi
