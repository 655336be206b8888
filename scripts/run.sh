#!/usr/bin/env bash
# Sets everything up, then summarizes and translates an article into Chinese.
# Usage: scripts/run.sh [ARTICLE_FILE] [extra precis options...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

install_system_packages
build_release
fetch_default_model

ARTICLE="${1:-$ROOT/tests/fixtures/global-times-syria-ceasefire.txt}"
shift || true
log "summarizing and translating $ARTICLE"
"$PRECIS" summarize "$ARTICLE" --to zh-Hans --translate "$@"
