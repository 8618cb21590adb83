#!/usr/bin/env bash
# Prepares a local Postgres for Nova and prints the login role's connection
# string on stdout. Uses NOVA_DATABASE_URL as is when it is set; otherwise
# installs PostgreSQL from Debian's packages if it is missing, starts a
# cluster, and creates the `nova` login role and database. Idempotent.
set -euo pipefail

if [ -n "${NOVA_DATABASE_URL:-}" ]; then
  echo "$NOVA_DATABASE_URL"
  exit 0
fi

log() { echo "devdb: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$(printf '%q ' "$@")"
  else sudo -u postgres "$@"; fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing PostgreSQL from Debian packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # The package creates the main cluster in the environment's locale: under
  # none (a fresh machine or container), C, whose encoding is SQL_ASCII.
  as_root env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8 apt-get install -y -qq postgresql postgresql-contrib >&2
fi

# The newest version with a server: a client-only package leaves a directory
# under /usr/lib/postgresql without bin/postgres.
version=$(ls -d /usr/lib/postgresql/*/bin/postgres | awk -F/ '{print $5}' | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main"' | grep -q .; then
  log "creating cluster $version/main"
  # UTF8 whatever the machine's locale: Nova stores Unicode text and
  # normalises it in SQL (normalize() needs a UTF8 database).
  as_root pg_createcluster --encoding=UTF8 --locale=C.UTF-8 "$version" main >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
if ! pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $4}' | grep -q online; then
  log "starting cluster $version/main on port $port"
  as_root pg_ctlcluster "$version" main start >&2
fi
wait_ready() {
  for _ in $(seq 1 50); do
    pg_isready -q -h localhost -p "$port" && return 0
    sleep 0.2
  done
  log "cluster $version/main did not accept connections on port $port within 10 s"
  exit 1
}
wait_ready

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" -d postgres "$@"; }

# Test databases copy template1, and `nova` is created from it: a cluster made
# in another encoding (by the package, before this script could) is refused
# rather than used, since Nova fails on it only later, in normalize().
not_utf8=$(psql_admin -tAc "SELECT string_agg(datname || ' is ' || pg_encoding_to_char(encoding), ', ')
  FROM pg_database WHERE datname IN ('template1', 'nova') AND encoding <> pg_char_to_encoding('UTF8')")
if [ -n "$not_utf8" ]; then
  log "cluster $version/main is not UTF8 ($not_utf8); if it holds nothing to keep, recreate it:"
  log "  pg_dropcluster --stop $version main && pg_createcluster --encoding=UTF8 --locale=C.UTF-8 $version main"
  exit 1
fi

# Each Nova process opens a pool per domain, and the test suite runs several
# databases at once: Debian's default of 100 connections is too few.
if [ "$(psql_admin -tAc "SHOW max_connections")" -lt 400 ]; then
  log "raising max_connections to 400 (restarts the cluster)"
  psql_admin -c "ALTER SYSTEM SET max_connections = 400" >&2
  as_root pg_ctlcluster "$version" main restart >&2
  wait_ready
fi
# The database lives in memory (shared buffers and the page cache), so an
# index probe costs little more than a sequential page read; at Postgres's
# default of 4 the planner scanned whole tables of a few thousand users to
# look up a page's eight authors (see the README's Postgres settings).
if [ "$(psql_admin -tAc "SHOW random_page_cost")" != 1.1 ]; then
  log "setting random_page_cost to 1.1"
  psql_admin -c "ALTER SYSTEM SET random_page_cost = 1.1" -c "SELECT pg_reload_conf()" >/dev/null
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'nova'")" != 1 ]; then
  log "creating login role nova"
  psql_admin -c "CREATE ROLE nova LOGIN PASSWORD 'nova' CREATEDB CREATEROLE" >&2
fi
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = 'nova'")" != 1 ]; then
  log "creating database nova"
  psql_admin -c "CREATE DATABASE nova OWNER nova" >&2
fi

echo "postgres://nova:nova@localhost:$port/nova?sslmode=disable"
