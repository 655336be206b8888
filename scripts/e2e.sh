#!/usr/bin/env bash
# End-to-end test in the real window: Xvfb + tauri-driver + WebKitWebDriver, the release build
# of precis-app and the real 0.5B model. Screenshots and exported files go to
# $PRECIS_E2E_OUT (default: $CARGO_TARGET_DIR/e2e-artifacts). Called by scripts/test.sh.
# PRECIS_APP=/usr/bin/precis-app tests an installed package instead of the build;
# PRECIS_E2E_ONLY=open-with runs only the "Open with" and second-launch steps.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/precis/target}"
OUT="${PRECIS_E2E_OUT:-$CARGO_TARGET_DIR/e2e-artifacts}"
APP="${PRECIS_APP:-$CARGO_TARGET_DIR/release/precis-app}"
rm -rf "$OUT" && mkdir -p "$OUT"

for tool in Xvfb WebKitWebDriver pdftotext node dbus-daemon dbus-send; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked
[ -x "$APP" ] || cargo build --release --workspace --locked

# A fresh history and settings for every run; the models stay where the user keeps them.
DATA="$(mktemp -d)"
DISPLAY_NO=$(( 90 + RANDOM % 400 ))
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT

Xvfb ":$DISPLAY_NO" -screen 0 1400x900x24 -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
PIDS+=($!)
export DISPLAY=":$DISPLAY_NO"
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$DISPLAY_NO" ] && break; sleep 0.1; done

# A private session bus: the single-instance check (a second launch hands its files to the
# running window) goes over D-Bus, and must not find a Précis the user has open.
{ read -r DBUS_SESSION_BUS_ADDRESS; read -r DBUS_PID; } < <(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export DBUS_SESSION_BUS_ADDRESS
PIDS+=("$DBUS_PID")

PORT=$(( 4444 + RANDOM % 1000 ))
NATIVE_PORT=$(( PORT + 1000 ))
PRECIS_DATA_DIR="$DATA" XDG_DATA_HOME="$DATA" XDG_CONFIG_HOME="$DATA" \
  tauri-driver --port "$PORT" --native-port "$NATIVE_PORT" >"$OUT/tauri-driver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/status" >/dev/null 2>&1 && break
  sleep 0.1
done

# The app a test starts itself (a second launch) gets the same data directories.
PRECIS_DATA_DIR="$DATA" XDG_DATA_HOME="$DATA" XDG_CONFIG_HOME="$DATA" \
  WEBDRIVER_URL="http://127.0.0.1:$PORT" PRECIS_APP="$APP" PRECIS_E2E_OUT="$OUT" \
  PRECIS_SAMPLE="$PWD/tests/fixtures/global-times-syria-ceasefire.txt" \
  node tests/e2e/window.mjs
echo "e2e: screenshots and exports in $OUT"
