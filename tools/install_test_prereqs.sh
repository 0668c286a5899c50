#!/usr/bin/env bash
# What the tests need beyond pip and npm, from Debian's packages, in one apt-get run:
#   chromium    the end-to-end tier (the Agents Playground in a headless browser; no browser download)
#   postgresql  the PostgreSQL tiers (server binaries only: the tests start their own throwaway server,
#               tests/support/postgres.py; no system service is used)
# Usage: install_test_prereqs.sh [e2e] [postgresql]   (both when none is named)
set -euo pipefail
wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(e2e postgresql)
missing=()
for what in "${wanted[@]}"; do
  case "$what" in
    e2e) [ -x /usr/bin/chromium ] || missing+=(chromium) ;;
    postgresql)
      compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql) ;;
    *) echo "unknown prerequisite: $what (e2e, postgresql)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing ${missing[*]} and this user cannot apt-get install it; those tests will be skipped (and fail under CI=true)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
