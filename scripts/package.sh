#!/usr/bin/env bash
# Builds the installable packages with Tauri's bundler (npm @tauri-apps/cli): a .deb and an
# AppImage, in artifacts/. Usage: scripts/package.sh [deb|appimage|all] (default: all)
#
# The AppImage bundler downloads its tools (linuxdeploy, AppRun) from github.com; where that is
# unreachable the .deb is still built and the script says why the AppImage is missing.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

want=${1:-all}
case "$want" in deb|appimage|all) ;; *) echo "usage: scripts/package.sh [deb|appimage|all]" >&2; exit 2 ;; esac

install_system_packages
build_release
APP_BIN="$CARGO_TARGET_DIR/release/precis-app"
BUNDLE_DIR="$CARGO_TARGET_DIR/release/bundle"
OUT_DIR="$ROOT/artifacts"
mkdir -p "$OUT_DIR"
# The release profile keeps debug info for profiling; a package does not need its ~240 MB.
log "stripping debug info from precis-app"
strip --strip-debug "$APP_BIN"

tauri_bundle() {
  (cd "$ROOT" && ui/node_modules/.bin/tauri bundle --bundles "$1")
}

if [ "$want" != appimage ]; then
  log "building the .deb"
  rm -rf "$BUNDLE_DIR/deb"
  tauri_bundle deb
  deb=$(ls "$BUNDLE_DIR"/deb/*.deb)
  cp "$deb" "$OUT_DIR/precis_$(dpkg-deb -f "$deb" Version)_$(dpkg-deb -f "$deb" Architecture).deb"
fi
if [ "$want" != deb ]; then
  log "building the AppImage"
  rm -rf "$BUNDLE_DIR/appimage"
  if tauri_bundle appimage; then
    cp "$BUNDLE_DIR"/appimage/*.AppImage "$OUT_DIR/"
  elif [ "$want" = appimage ]; then
    exit 1
  else
    echo "package.sh: no AppImage: its bundler needs github.com (linuxdeploy, AppRun), unreachable here; the .deb is built" >&2
  fi
fi
log "packages in $OUT_DIR:"
ls -l "$OUT_DIR"/precis_*.deb "$OUT_DIR"/*.AppImage 2>/dev/null || true
