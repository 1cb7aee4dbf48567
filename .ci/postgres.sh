#!/usr/bin/env bash
# Start Debian's PostgreSQL on 127.0.0.1 and print a database URL for the store tests.
# Used by .ci/run; harmless to run twice.
set -euo pipefail
exec 3>&1 1>&2  # only the URL goes to standard output (fd 3); everything else to stderr
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  apt-get install -y -qq postgresql </dev/null >/dev/null 2>&1 3>&-
fi
version=$(pg_lsclusters --no-header | awk 'NR==1 {print $1}')
if [ -z "$version" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  pg_createcluster "$version" main >/dev/null
fi
# The server is a daemon: it must not inherit fd 3 (or any pipe), or whoever reads this
# script's output waits for it to exit, which is never.
pg_ctlcluster "$version" main start </dev/null >/dev/null 2>&1 3>&- || true
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 0.2
done
su postgres -c "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='toolsmith'\"" | grep -q 1 \
  || su postgres -c "psql -qc \"CREATE ROLE toolsmith LOGIN SUPERUSER PASSWORD 'toolsmith'\""
su postgres -c "psql -qtc \"SELECT 1 FROM pg_database WHERE datname='toolsmith_test'\"" | grep -q 1 \
  || su postgres -c "createdb -O toolsmith toolsmith_test"
echo "postgresql+psycopg://toolsmith:toolsmith@127.0.0.1:5432/toolsmith_test" >&3
