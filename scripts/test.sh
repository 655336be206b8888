#!/usr/bin/env bash
# Runs every test: formatting, UI unit tests, Rust unit and integration tests, the real-model
# tests with the 0.5B and 1.5B models (fetched first), and the end-to-end test in the real
# window. One release build serves all of them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

install_system_packages "${TEST_PACKAGES[@]}"
build_release
fetch_model qwen2.5-0.5b-instruct
fetch_model qwen2.5-1.5b-instruct
# Small files of the other architectures, checked against llama.cpp (tests/reference_models.rs).
fetch_model smollm2-135m-instruct
fetch_model gemma3-270m
# A real OpenAI-compatible server for the remote engine's test.
LLAMA_SERVER_VENV="${PRECIS_LLAMA_SERVER_VENV:-$HOME/.cache/precis/llama-server-venv}"
ensure_llama_server "$LLAMA_SERVER_VENV"
export PRECIS_LLAMA_SERVER_PYTHON="$LLAMA_SERVER_VENV/bin/python"

cd "$ROOT"
log "cargo fmt --check"
cargo fmt --all -- --check
log "UI unit tests (vitest) and type check against the types generated from Rust (svelte-check)"
(cd ui && npm test --silent && npm run check --silent)
log "cargo test (release; real-model tests and tools required)"
LOG="${PRECIS_TEST_LOG:-$CARGO_TARGET_DIR/precis-test.log}"
PRECIS_REQUIRE_MODELS=1 PRECIS_REQUIRE_TOOLS=1 cargo test --workspace --release --locked -- --nocapture 2>&1 | tee "$LOG"
log "end-to-end test in the real window"
scripts/e2e.sh
# Installing the package changes the system, so it runs where asked (CI's clean machine).
if [ "${PRECIS_TEST_PACKAGE:-0}" = 1 ]; then
  log "the .deb: build it, install it, open an article with the installed app"
  scripts/package.sh deb
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$ROOT"/artifacts/precis_*.deb
  PRECIS_APP=/usr/bin/precis-app PRECIS_E2E_ONLY=open-with PRECIS_E2E_OUT="$CARGO_TARGET_DIR/e2e-package" scripts/e2e.sh
else
  log "package test skipped (PRECIS_TEST_PACKAGE=1 builds and installs the .deb; CI sets it)"
fi
log "all tests passed (log: $LOG)"
