#!/usr/bin/env bash
# Makes sure Debian's PostgreSQL server binaries are present: the Neon emulator and the PostgreSQL provider
# tests start their own clusters from them (as the unprivileged `postgres` user, on free loopback ports).
# Runs before `npm test` and from .ci/run; it installs nothing when the server is already there.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  exit 0
fi
echo "ensure-postgres: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin." >&2
echo "Install Debian's package first: sudo apt-get install postgresql" >&2
exit 1
