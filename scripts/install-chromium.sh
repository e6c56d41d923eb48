#!/usr/bin/env bash
# Debian's Chromium for the browser test (Playwright drives it; no browser is downloaded).
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "warning: no apt-get here; install Chromium yourself for the browser test" >&2
  exit 0
fi
$SUDO apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
