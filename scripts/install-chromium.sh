#!/usr/bin/env bash
# Installs Debian's `chromium` (headless browser for the report rendering test) when it is missing; safe to run
# again and from several processes at once (they wait on one lock). The report's browser test runs it (so `.ci/run`
# needs no step of its own). Prints the path of the chromium executable on its last line.
set -euo pipefail

find_chromium() {
    for name in chromium chromium-browser; do
        if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
    done
    return 1
}

if path="$(find_chromium)"; then echo "$path"; exit 0; fi

# One installer at a time: apt has its own lock, but a second caller should wait for the first rather than fail on it.
LOCK="${TMPDIR:-/tmp}/sparrow-install-chromium.lock"
exec 9>"$LOCK"
flock 9
if path="$(find_chromium)"; then echo "$path"; exit 0; fi

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo"
else
    echo "error: chromium is missing and this script may not install packages (not root, no password-less sudo)." >&2
    echo "Ask an administrator to run: apt-get install chromium" >&2
    exit 1
fi
$SUDO apt-get update -qq >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
if path="$(find_chromium)"; then echo "$path"; exit 0; fi
echo "error: apt-get installed chromium but no chromium executable is on PATH." >&2
exit 1
