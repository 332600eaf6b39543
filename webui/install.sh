#!/bin/sh
# Installs the web UI's third-party browser code from the npm registry
# (versions pinned in package.json and package-lock.json) into dist/, where
# the Go build embeds it. Run it before `go build`; without it minicloud
# still runs, and its console page says how to get noVNC.
#   sh webui/install.sh        (needs node and npm)
set -eu
cd "$(dirname "$0")"
if ! command -v npm >/dev/null 2>&1; then
  echo "webui/install.sh: npm not found (Debian: apt-get install npm)" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
src=node_modules/@novnc/novnc
rm -rf dist/novnc
mkdir -p dist/novnc/docs
# The ES-module build noVNC's RFB class needs (core/ and vendor/), with its
# licences.
cp -R "$src/core" "$src/vendor" dist/novnc/
cp "$src/package.json" "$src/LICENSE.txt" "$src/AUTHORS" dist/novnc/
cp "$src"/docs/LICENSE* dist/novnc/docs/
echo "noVNC $(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$src/package.json") installed in $(pwd)/dist/novnc"
