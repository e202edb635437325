#!/usr/bin/env bash
# Deploy Kiro User Activity Analytics: the numbered STEPS below, or the whole thing locally with --local.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Step number = position + 1. Titles must match each script's TITLE (a test checks).
STEPS=(
  "01_deploy_stack.py|Deploy CloudFormation stack"
  "02_grant_lake_formation.py|Grant Lake Formation permissions"
  "03_run_crawlers.py|Run Glue crawlers"
  "04_verify_athena.py|Verify Athena data"
  "05_create_views.py|Create Athena views"
  "06_sync_user_mapping.py|Sync user-name map"
  "07_create_datasets.py|Create QuickSight data source and datasets"
  "08_create_analyses.py|Create QuickSight analyses"
  "09_publish_dashboard.py|Publish QuickSight dashboard"
)

usage() {
  cat <<EOF
Usage: ./deploy.sh [options]

Deploys the Kiro analytics pipeline into your AWS account, one numbered step at a time:
$(for i in "${!STEPS[@]}"; do printf '  %d  %s\n' "$((i + 1))" "${STEPS[$i]#*|}"; done)

Options:
  --config FILE   configuration (default: config.yaml; start from config.example.yaml)
  --from N        start at step N (resume after a failure)
  --only N[,M..]  run only these steps (in step order)
  --dry-run       change nothing; write each mutating request to <out>/requests/
  --check         only run the preflight checks (credentials, bucket, reports, QuickSight, ...)
  --verify        after a deploy: compare the Athena views with a local DuckDB build of the same reports, per day
  --since DATE    with --verify: first activity day to compare (YYYY-MM-DD)
  --until DATE    with --verify: last activity day to compare
  --skip-check    do not run the preflight checks before the steps
  --out DIR       output folder (default: build, or build/local with --local)
  --local         no AWS: build the tables and views in DuckDB and render dashboard.html
  --data DIR      with --local: a folder laid out like the S3 prefix (default: generated sample data)
  --users FILE    with --local: a CSV (userid,username,...) used as the name map
  --roster FILE   with --local: a CSV (userid,group,roster_date) of seat holders, for idle-seat figures
  -h, --help      this help

Examples:
  ./deploy.sh --local                 # try it now, no AWS account needed
  ./deploy.sh --check                 # preflight only: is the account ready?
  ./deploy.sh --verify                # do Athena and DuckDB agree on your reports?
  ./deploy.sh --config config.yaml    # deploy everything
  ./deploy.sh --from 7                # resume at step 7
  ./deploy.sh --only 6                # refresh the user-name map now
EOF
}

die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# The project venv, created or updated only when a requirements file changed.
ensure_python() { PYTHON="$("$ROOT/scripts/bin/ensure-venv.sh" "$1")"; }

# A step number: digits only (no leading zero), within 1..${#STEPS[@]}.
valid_step() { [[ "$1" =~ ^[1-9][0-9]*$ ]] && (($1 <= ${#STEPS[@]})); }

# --only's list, checked at once (before the preflight) and put in step order: a step needs the ones before it.
parse_steps() {
  local list="$1" item
  local -a items=()
  [[ -n "$list" ]] || die "--only takes step numbers 1-${#STEPS[@]} separated by commas, got an empty list"
  IFS=',' read -r -a items <<<"$list"
  [[ "$list" != *, ]] || items+=("")
  for item in "${items[@]}"; do
    valid_step "$item" || die "--only takes step numbers 1-${#STEPS[@]} separated by commas, got '$list'"
  done
  SELECTED=()
  while IFS= read -r item; do SELECTED+=("$item"); done < <(printf '%s\n' "${items[@]}" | sort -n -u)
}

# The command that reruns the deploy from step $1: --from, or with --only the selected steps from there on.
resume_command() {
  local number="$1" rest=() step
  if [[ ${#SELECTED[@]} -eq 0 ]]; then printf './deploy.sh --from %d%s' "$number" "$RESUME_FLAGS"; return; fi
  for step in "${SELECTED[@]}"; do ((step < number)) || rest+=("$step"); done
  printf './deploy.sh --only %s%s' "$(IFS=','; echo "${rest[*]}")" "$RESUME_FLAGS"
}

format_seconds() { printf '%dm%02ds' "$(($1 / 60))" "$(($1 % 60))"; }

SUMMARY=()
run_step() {
  local number="$1"
  local script="${STEPS[$((number - 1))]%%|*}" title="${STEPS[$((number - 1))]#*|}"
  local started rc=0
  CURRENT="$number"
  printf '\n[%d/%d] %s\n' "$number" "${#STEPS[@]}" "$title"
  started=$SECONDS
  KIRO_RESUME_COMMAND="$(resume_command "$number")" \
    "$PYTHON" "$ROOT/scripts/$script" --config "$CONFIG" --out "$OUT" "${STEP_FLAGS[@]}" || rc=$?
  local took=$((SECONDS - started))
  if [[ $rc -ne 0 ]]; then
    SUMMARY+=("$(printf '  %d  %-44s FAILED  %s' "$number" "$title" "$(format_seconds "$took")")")
    print_summary
    printf '\nStep %d (%s) failed (exit %d). Fix the error above, then resume with:\n  %s\n' \
      "$number" "$title" "$rc" "$(resume_command "$number")" >&2
    exit "$rc"
  fi
  SUMMARY+=("$(printf '  %d  %-44s ok      %s' "$number" "$title" "$(format_seconds "$took")")")
}

print_summary() {
  [[ ${#SUMMARY[@]} -gt 0 ]] || return 0
  printf '\nSummary:\n'
  printf '%s\n' "${SUMMARY[@]}"
}

on_interrupt() {
  printf '\nInterrupted during step %s. Nothing is left half-done that a rerun cannot finish; resume with:\n  %s\n' \
    "$CURRENT" "$(resume_command "$CURRENT")" >&2
  exit 130
}

# Without --config: config.yaml here, else the one beside this script (deploy.sh may run from any folder).
default_config() {
  if [[ -f config.yaml || ! -f "$ROOT/config.yaml" ]]; then printf 'config.yaml'; else printf '%s' "$ROOT/config.yaml"; fi
}

main() {
  CONFIG="$(default_config)" OUT="" FROM=1 ONLY="" ONLY_GIVEN=0 DRY_RUN=0 LOCAL=0 DATA="" USERS="" ROSTER=""
  CONFIG_GIVEN=0 CHECK=1 CURRENT=1 SELECTED=() VERIFY=0 SINCE="" UNTIL=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -h|--help) usage; exit 0 ;;
      --config) [[ $# -ge 2 ]] || die "--config needs a file"; CONFIG="$2"; CONFIG_GIVEN=1; shift 2 ;;
      --from) valid_step "${2:-}" || die "--from needs a step number 1-${#STEPS[@]}"; FROM="$2"; shift 2 ;;
      --only) [[ $# -ge 2 ]] || die "--only needs step numbers"; ONLY="$2"; ONLY_GIVEN=1; shift 2 ;;
      --out) [[ $# -ge 2 ]] || die "--out needs a folder"; OUT="$2"; shift 2 ;;
      --data) [[ $# -ge 2 ]] || die "--data needs a folder"; DATA="$2"; shift 2 ;;
      --users) [[ $# -ge 2 ]] || die "--users needs a CSV file"; USERS="$2"; shift 2 ;;
      --roster) [[ $# -ge 2 ]] || die "--roster needs a CSV file"; ROSTER="$2"; shift 2 ;;
      --dry-run) DRY_RUN=1; shift ;;
      --local) LOCAL=1; shift ;;
      --check) CHECK=2; shift ;;
      --verify) VERIFY=1; shift ;;
      --since) [[ $# -ge 2 ]] || die "--since needs a date"; SINCE="$2"; shift 2 ;;
      --until) [[ $# -ge 2 ]] || die "--until needs a date"; UNTIL="$2"; shift 2 ;;
      --skip-check) CHECK=0; shift ;;
      *) usage >&2; die "unknown option '$1'" ;;
    esac
  done
  [[ $ONLY_GIVEN -eq 0 || "$FROM" == 1 ]] || die "--from and --only cannot be combined"
  [[ $ONLY_GIVEN -eq 0 ]] || parse_steps "$ONLY"

  if [[ $LOCAL -eq 1 ]]; then
    [[ $ONLY_GIVEN -eq 0 && "$FROM" == 1 && $DRY_RUN -eq 0 ]] || die "--local builds everything locally; --from, --only and --dry-run are for AWS"
    trap 'printf "\ninterrupted\n" >&2; exit 130' INT
    ensure_python "$ROOT/requirements-local.txt"
    local args=(--out "${OUT:-build/local}")
    # Without --config the local build finds config.yaml here or beside this script, else config.example.yaml.
    [[ $CONFIG_GIVEN -eq 0 ]] || args+=(--config "$CONFIG")
    [[ -z "$DATA" ]] || args+=(--data "$DATA")
    [[ -z "$USERS" ]] || args+=(--users "$USERS")
    [[ -z "$ROSTER" ]] || args+=(--roster "$ROSTER")
    PYTHONPATH="$ROOT/scripts" exec "$PYTHON" -m kiro_analytics.local "${args[@]}"
  fi
  [[ -z "$DATA" && -z "$USERS" && -z "$ROSTER" ]] || die "--data, --users and --roster go with --local"
  [[ $VERIFY -eq 1 || ( -z "$SINCE" && -z "$UNTIL" ) ]] || die "--since and --until go with --verify"
  if [[ $VERIFY -eq 1 ]]; then
    [[ $ONLY_GIVEN -eq 0 && "$FROM" == 1 && $DRY_RUN -eq 0 ]] || die "--verify reads a deployed account; it takes no steps"
    [[ -f "$CONFIG" ]] || die "config file '$CONFIG' not found"
    ensure_python "$ROOT/requirements-local.txt"  # boto3 and DuckDB: both sides of the comparison
    local verify_args=(--config "$CONFIG" --out "${OUT:-build}")
    [[ -z "$SINCE" ]] || verify_args+=(--since "$SINCE")
    [[ -z "$UNTIL" ]] || verify_args+=(--until "$UNTIL")
    printf '\n[verify] Athena against a local DuckDB build of the same reports\n'
    exec "$PYTHON" "$ROOT/scripts/crosscheck.py" "${verify_args[@]}"
  fi

  OUT="${OUT:-build}"
  STEP_FLAGS=()
  RESUME_FLAGS=""
  [[ $CONFIG_GIVEN -eq 0 ]] || RESUME_FLAGS+=" --config $CONFIG"
  if [[ $DRY_RUN -eq 1 ]]; then STEP_FLAGS+=(--dry-run); RESUME_FLAGS+=" --dry-run"; fi
  [[ "$OUT" == build ]] || RESUME_FLAGS+=" --out $OUT"
  if [[ ! -f "$CONFIG" ]]; then
    [[ $CONFIG_GIVEN -eq 1 ]] || die "no config.yaml in $PWD or $ROOT: cp $ROOT/config.example.yaml $ROOT/config.yaml and fill in the REQUIRED keys (or pass --config FILE)"
    die "config file '$CONFIG' not found: cp $ROOT/config.example.yaml config.yaml and fill in the REQUIRED keys"
  fi
  ensure_python "$ROOT/requirements.txt"
  trap on_interrupt INT

  if [[ $CHECK -gt 0 ]]; then
    printf '\n[preflight] Checking the account, bucket and services\n'
    local rc=0
    "$PYTHON" "$ROOT/scripts/preflight.py" --config "$CONFIG" --out "$OUT" || rc=$?
    if [[ $rc -ne 0 ]]; then
      printf '\nPreflight failed: fix the problems above, or rerun with --skip-check to deploy anyway.\n' >&2
      exit "$rc"
    fi
    [[ $CHECK -eq 1 ]] || exit 0
  fi

  local steps=() number
  if [[ $ONLY_GIVEN -eq 1 ]]; then steps=("${SELECTED[@]}")
  else for ((number = FROM; number <= ${#STEPS[@]}; number++)); do steps+=("$number"); done
  fi
  local begun=$SECONDS
  for number in "${steps[@]}"; do run_step "$number"; done
  print_summary
  printf '\nDone: %d step(s) in %s%s.\n' "${#steps[@]}" "$(format_seconds $((SECONDS - begun)))" \
    "$([[ $DRY_RUN -eq 1 ]] && echo " (dry run: nothing was changed; requests in $OUT/requests/)")"
}

main "$@"
