#!/usr/bin/env bash
# Runs every test of the workspace. The hub's tests need the PostgreSQL server
# on 127.0.0.1:5432; it is started here if it is installed and down.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    for _ in $(seq 1 30); do
      pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && break
      sleep 1
    done
  fi
fi

cargo test --workspace --locked "$@"
