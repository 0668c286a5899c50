#!/usr/bin/env bash
# What the PostgreSQL tests need beyond pip: Debian's PostgreSQL server binaries (initdb, postgres).
# The tests start their own throwaway server (tests/support/postgres.py); no system service is used.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "PostgreSQL (initdb) is missing and this user cannot apt-get install it; the PostgreSQL tests will be skipped (and fail under CI=true)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql >/dev/null
