#!/bin/sh
# Regenerates src/generated/ from ../openapi.json with the pinned openapi-typescript
# (installed into ./node_modules by `npm ci` when it is not there yet).
set -eu
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/openapi-typescript ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi
rm -rf src/generated
mkdir -p src/generated
node_modules/.bin/openapi-typescript ../openapi.json --empty-objects-unknown --default-non-nullable false --output src/generated/schema.ts
