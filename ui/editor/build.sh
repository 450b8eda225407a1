#!/usr/bin/env bash
# Regenerates ui/assets/editor.min.js (and its license file) from the exact versions in
# package-lock.json. Only needed when the editor changes: the bundle is committed, so
# cargo and CI never run npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
# esbuild's own install script is not needed: npm installs its platform binary as an
# optional dependency, which the esbuild package finds on its own.
npx --no-install esbuild src/editor.js --bundle --minify --format=iife --target=es2020 \
  --legal-comments=none --outfile=../assets/editor.min.js
node licenses.mjs > ../assets/editor.LICENSES.txt
ls -l ../assets/editor.min.js
