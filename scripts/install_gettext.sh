#!/usr/bin/env bash
# Installs GNU gettext's msgfmt (Debian package gettext) to compile locale/*.po.
set -euo pipefail
if command -v msgfmt >/dev/null 2>&1; then exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq gettext >/dev/null
