# Finds or starts the PostgreSQL the service and the tests use; sourced by scripts/run and
# scripts/test. On return DATABASE_URL is exported.
#
# 1. DATABASE_URL, when set, is used as it is.
# 2. Else a PostgreSQL listening on 127.0.0.1:5432 (trust auth for `postgres`, as on developer
#    machines and CI).
# 3. Else a private cluster under .local/postgres (git-ignored) on port 54329, created with
#    initdb and started with pg_ctl; PostgreSQL is installed from the OS packages if missing.

PRIVATE_PG_PORT="${PRIVATE_PG_PORT:-54329}"
PRIVATE_PG_DIR="${PRIVATE_PG_DIR:-$(pwd)/.local/postgres}"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

install_postgres() {
  log "PostgreSQL is not installed: installing it from the OS packages"
  if [ "$(id -u)" -ne 0 ]; then
    log "installing needs root: run 'sudo apt-get install postgresql' (or set DATABASE_URL)"
    return 1
  fi
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
}

# Runs a PostgreSQL server tool as a user it accepts (initdb and pg_ctl refuse root).
as_pg_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_private_cluster() {
  local bin
  bin=$(pg_bin_dir)
  if [ -z "$bin" ]; then
    install_postgres || return 1
    bin=$(pg_bin_dir)
  fi
  [ -n "$bin" ] || { log "initdb not found after installing PostgreSQL"; return 1; }
  mkdir -p "$PRIVATE_PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres:postgres "$PRIVATE_PG_DIR"
  fi
  if [ ! -f "$PRIVATE_PG_DIR/data/PG_VERSION" ]; then
    log "creating a private PostgreSQL cluster in $PRIVATE_PG_DIR"
    as_pg_user "$bin/initdb" -D "$PRIVATE_PG_DIR/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$PRIVATE_PG_DIR/initdb.log" 2>&1 \
      || { cat "$PRIVATE_PG_DIR/initdb.log" >&2; return 1; }
  fi
  if ! port_open 127.0.0.1 "$PRIVATE_PG_PORT"; then
    log "starting the private PostgreSQL on 127.0.0.1:$PRIVATE_PG_PORT"
    as_pg_user "$bin/pg_ctl" -D "$PRIVATE_PG_DIR/data" -l "$PRIVATE_PG_DIR/server.log" -w -t 60 \
      -o "-p $PRIVATE_PG_PORT -c listen_addresses=127.0.0.1 -k $PRIVATE_PG_DIR -c max_connections=200" \
      start >&2 || { tail -n 20 "$PRIVATE_PG_DIR/server.log" >&2; return 1; }
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PRIVATE_PG_PORT/${DATABASE_NAME:-anct_formations}"
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    log "using DATABASE_URL from the environment"
    return 0
  fi
  if port_open 127.0.0.1 5432; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:5432/${DATABASE_NAME:-anct_formations}"
    log "using the PostgreSQL listening on 127.0.0.1:5432"
    return 0
  fi
  start_private_cluster
}
