#!/usr/bin/env bash
# Regenerates herald_client/generated from ../openapi.json with the pinned openapi-python-client.
# Uses $HERALD_PY_VENV (default: .venv beside this script), creating it and installing
# requirements-dev.txt into it when the pinned generator is not there. Installs nothing globally.
set -euo pipefail
cd "$(dirname "$0")"
venv="${HERALD_PY_VENV:-$PWD/.venv}"
pinned="$(sed -n 's/^openapi-python-client==//p' requirements-dev.txt)"
installed="$("$venv/bin/openapi-python-client" --version 2>/dev/null | awk '{print $NF}' || true)"
if [ "$installed" != "$pinned" ]; then
  [ -x "$venv/bin/pip" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements-dev.txt
fi
export PATH="$venv/bin:$PATH"   # the generator's post hooks run the pinned ruff
rm -rf herald_client/generated
"$venv/bin/openapi-python-client" generate \
  --path ../openapi.json \
  --config openapi-python-client.yaml \
  --meta none \
  --output-path herald_client/generated \
  --fail-on-warning
