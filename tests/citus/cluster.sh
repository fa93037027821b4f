#!/usr/bin/env bash
# A Citus cluster for the tests and the benchmark: one coordinator and two workers, project-local clusters
# under .data/citus/ (like the embedded .data/pg), each with shared_preload_libraries=citus, on free ports.
#   tests/citus/cluster.sh start   -> prints the coordinator URL and the workers (host:port,host:port)
#   tests/citus/cluster.sh stop
# As root the clusters are run by the postgres system user (PostgreSQL refuses root).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
base="${CITUS_DATA_DIR:-$root/.data/citus}"
major="${PG_MAJOR:-$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)}"
bindir="/usr/lib/postgresql/$major/bin"
coordinator_port="${CITUS_COORDINATOR_PORT:-54340}"
worker_ports=("${CITUS_WORKER1_PORT:-54341}" "${CITUS_WORKER2_PORT:-54342}")
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_node() {
  local name="$1" port="$2" dir="$base/$1"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$base" "$dir"
    as_pg "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
    cat >> "$dir/postgresql.conf" <<CONF
shared_preload_libraries = 'citus'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
citus.shard_count = 32
citus.log_remote_commands = off
CONF
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null
  fi
}

case "${1:-start}" in
  start)
    "$root/tests/citus/build_citus.sh" >&2
    mkdir -p "$base"
    [ "$(id -u)" = 0 ] && chown postgres "$base"
    start_node coordinator "$coordinator_port"
    i=1
    for p in "${worker_ports[@]}"; do start_node "worker$i" "$p"; i=$((i+1)); done
    echo "CONTEXTMAP_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$coordinator_port/contextmap"
    echo "CONTEXTMAP_CITUS_WORKERS=$(printf '127.0.0.1:%s,' "${worker_ports[@]}" | sed 's/,$//')"
    ;;
  stop)
    for name in coordinator worker1 worker2; do
      [ -f "$base/$name/PG_VERSION" ] && as_pg "$bindir/pg_ctl" -D "$base/$name" -m fast -w stop >/dev/null 2>&1 || true
    done
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
