#!/usr/bin/env bash
# WeasyPrint needs pango (Debian: libpango-1.0-0 libpangoft2-1.0-0). Install with apt-get when we can.
set -u
have() { ldconfig -p 2>/dev/null | grep -q "$1"; }
if have libpango-1.0.so && have libpangoft2-1.0.so; then exit 0; fi
PKGS="libpango-1.0-0 libpangoft2-1.0-0"
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
  fi
  if [ "$(id -u)" = "0" ] || [ -n "$SUDO" ]; then
    echo "installing $PKGS for WeasyPrint (PDF)…"
    $SUDO apt-get update -qq >/dev/null 2>&1 || true
    if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PKGS >/dev/null 2>&1 && have libpango-1.0.so; then
      exit 0
    fi
  fi
fi
echo "missing system libraries for the PDF: install the pango libraries (Debian/Ubuntu: sudo apt-get install $PKGS; macOS: brew install pango)" >&2
exit 1
