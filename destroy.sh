#!/usr/bin/env bash
# Remove everything ./deploy.sh created, newest first. The Kiro report files are never touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<EOF2
Usage: ./destroy.sh [--config FILE] [--yes] [--dry-run] [--out DIR]

Deletes, in this order: the QuickSight dashboard, analyses, datasets and data source; the Athena views and
tables; the Athena results, then the CloudFormation stack (so its scheduled Lambda cannot write the map again);
then the user-name map, the seat roster and the Lambda packages in your report bucket.
Asks for confirmation unless --yes. Safe to rerun: what is already gone is reported as such.
EOF2
}

main() {
  local arg
  for arg in "$@"; do
    if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then usage; exit 0; fi
  done
  local python
  python="$("$ROOT/scripts/bin/ensure-venv.sh" "$ROOT/requirements.txt")"
  exec "$python" "$ROOT/scripts/destroy.py" "$@"
}

main "$@"
