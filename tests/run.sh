#!/usr/bin/env bash
# The test command (README and .ci/run): installs what the suite needs into .venv, then runs it.
# Lint (ruff, shellcheck, cfn-lint) runs inside pytest, so one command covers everything.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
python="$("$root/scripts/bin/ensure-venv.sh" "$root/requirements-dev.txt")"

# The browser test needs Debian's Chromium (and a CJK font, so zh screenshots are readable); install them when
# we can (CI runs as root).
if ! command -v chromium >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Chromium for the browser test..." >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; } >/dev/null 2>&1 \
    || echo "warning: could not install chromium; the browser test will fail" >&2
fi

exec "$python" -m pytest "$@"
