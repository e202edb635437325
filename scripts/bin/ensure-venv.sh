#!/usr/bin/env bash
# Prints the path of a Python that has REQUIREMENTS installed, creating or updating the project venv
# (default .venv; KIRO_VENV overrides; KIRO_PYTHON skips all of this). Installs again only when a
# requirements file changes, so every run after the first starts in well under a second.
set -euo pipefail

requirements="${1:?usage: ensure-venv.sh REQUIREMENTS_FILE}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${KIRO_VENV:-$root/.venv}"

if [[ -n "${KIRO_PYTHON:-}" ]]; then echo "$KIRO_PYTHON"; exit 0; fi
python="$venv/bin/python"
stamp="$venv/.installed-$(basename "$requirements")"
if [[ -x "$python" && -f "$stamp" ]] && cmp -s "$stamp" <(cat "$root"/requirements*.txt); then
  echo "$python"; exit 0
fi
if [[ ! -x "$python" ]]; then
  echo "Creating the Python environment in $venv (first run only)..." >&2
  python3 -m venv "$venv" >&2 || { echo "error: python3 -m venv failed: install Python 3.9+ with venv" >&2; exit 2; }
fi
echo "Installing $(basename "$requirements") into $venv..." >&2
"$python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2 \
  || { echo "error: pip install -r $requirements failed (network or proxy?)" >&2; exit 2; }
cat "$root"/requirements*.txt >"$stamp"
echo "$python"
