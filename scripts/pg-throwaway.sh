#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: in a temporary directory, on a private unix socket (no TCP),
# owned by an unprivileged user (PostgreSQL refuses to run as root).
#
#   eval "$(bash scripts/pg-throwaway.sh start)"   # exports MATCHER_TEST_DATABASE_URL and PG_THROWAWAY_DIR
#   bash scripts/pg-throwaway.sh stop "$PG_THROWAWAY_DIR"   # stops the cluster and deletes the directory
#
# Needs PostgreSQL's server binaries (initdb, pg_ctl: on PATH or Debian's /usr/lib/postgresql/*/bin; .ci/run
# installs Debian's postgresql when absent). As root the cluster runs as the user `postgres` when it exists,
# else as a system user `matcher-pg` made for it. Exit status 3 when the binaries are missing.
set -euo pipefail

find_bin() {  # the PostgreSQL binary $1: on PATH, else the newest Debian one
    local found
    found=$(command -v "$1" 2>/dev/null || true)
    if [ -z "$found" ]; then
        found=$(ls -d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
    fi
    [ -n "$found" ] && [ -x "$found" ] || { echo "pg-throwaway: no PostgreSQL '$1' binary (install postgresql)" >&2; exit 3; }
    echo "$found"
}

as_owner() {  # run "$@" as the cluster's owner
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$OWNER" -- "$@"
    else
        "$@"
    fi
}

pick_owner() {
    if [ "$(id -u)" != 0 ]; then
        OWNER=$(id -un)
    elif id postgres >/dev/null 2>&1; then
        OWNER=postgres
    else
        id matcher-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin matcher-pg
        OWNER=matcher-pg
    fi
}

cmd=${1:-}
case "$cmd" in
start)
    INITDB=$(find_bin initdb)
    PG_CTL=$(find_bin pg_ctl)
    pick_owner
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/matcher-pg.XXXXXX")
    chmod 0700 "$DIR"
    [ "$(id -u)" = 0 ] && chown "$OWNER" "$DIR"
    PORT=5432  # only names the socket file in the private directory
    as_owner "$INITDB" -D "$DIR/data" -U matcher -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 \
        || as_owner "$INITDB" -D "$DIR/data" -U matcher -A trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_owner "$PG_CTL" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-k $DIR -c listen_addresses= -p $PORT -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    PSQL=$(command -v psql || find_bin psql)
    as_owner "$PSQL" -h "$DIR" -p "$PORT" -U matcher -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE DATABASE matcher_test" >&2
    echo "export PG_THROWAWAY_DIR='$DIR'"
    echo "export MATCHER_TEST_DATABASE_URL='postgresql://matcher@/matcher_test?host=$DIR&port=$PORT'"
    ;;
stop)
    DIR=${2:-${PG_THROWAWAY_DIR:-}}
    [ -n "$DIR" ] && [ -d "$DIR" ] || { echo "pg-throwaway: stop needs the directory start printed" >&2; exit 2; }
    case "$DIR" in */matcher-pg.*) ;; *) echo "pg-throwaway: $DIR is not a throwaway cluster directory" >&2; exit 2;; esac
    PG_CTL=$(find_bin pg_ctl)
    pick_owner
    OWNER=$(stat -c %U "$DIR")
    if [ -f "$DIR/data/postmaster.pid" ]; then
        as_owner "$PG_CTL" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    ;;
*)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
