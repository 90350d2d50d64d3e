#!/usr/bin/env bash
# Install Debian's Chromium for the browser check (tests/test_browser.py).
#
# Safe to run again: it does nothing when /usr/bin/chromium already works.
# Tolerant on purpose: if it cannot install (no apt-get, not root, no
# network), it says why and exits 0, and the browser tests then skip with
# a message instead of failing the whole run.
#
# Usage: bash .ci/install-browser.sh
set -u

CHROMIUM=/usr/bin/chromium

say() { echo "install-browser: $*"; }

if [ -x "$CHROMIUM" ] && "$CHROMIUM" --version >/dev/null 2>&1; then
    say "already installed: $("$CHROMIUM" --version 2>/dev/null)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    say "apt-get not found (not a Debian-like system); the browser check will skip."
    exit 0
fi

# apt-get needs root: use sudo only if it works without a password prompt.
if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    AS_ROOT="sudo -n"
else
    say "need root (or password-less sudo) to run apt-get; the browser check will skip."
    exit 0
fi

LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
say "installing chromium with apt-get (quiet; this takes a minute)..."
if $AS_ROOT env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$LOG" 2>&1 \
    && $AS_ROOT env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >>"$LOG" 2>&1; then
    if "$CHROMIUM" --version >/dev/null 2>&1; then
        say "installed: $("$CHROMIUM" --version 2>/dev/null)"
    else
        say "apt-get succeeded but $CHROMIUM does not run; the browser check will skip."
    fi
else
    say "apt-get failed; the browser check will skip. Last lines of its output:"
    tail -n 15 "$LOG"
fi
exit 0
