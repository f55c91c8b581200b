#!/usr/bin/env bash
# Installs Debian's chromium for the Playwright browser tests (Playwright's own browser
# download is not reachable from bureau networks or from CI), and its headless shell (the
# same version, built from the same Debian source: the binary the tests launch when present,
# tests/browser/conftest.py).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && [ -x /usr/lib/chromium/chromium-headless-shell ]; then exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-headless-shell fonts-noto-cjk >/dev/null
chromium --version
