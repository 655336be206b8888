#!/usr/bin/env bash
# Sets everything up (system packages, UI, release build, the default model), then opens the
# Précis window. Usage: scripts/run.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

install_system_packages
build_release
fetch_default_model

log "opening Précis"
exec "$CARGO_TARGET_DIR/release/precis-app"
