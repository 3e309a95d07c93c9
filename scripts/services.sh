#!/usr/bin/env bash
# Local Redis, OpenSearch, PostgreSQL, one Celery worker with beat and one `ops` worker:
#   scripts/services.sh start|backends|postgres|cluster|cluster-stop|stop|status
# `cluster` starts a separate secured 2-node OpenSearch cluster (ports 9201/9202, transport
# 9301/9302; scripts/opensearch_cluster.sh) beside the local node, for cluster and fail-over work;
# `cluster-stop` stops only its nodes. Neither touches the local node on 9200.
# Both backends require authentication (docs/security.md): Redis a password generated on first
# start (requirepass), OpenSearch its security plugin. Each start writes the app's connection
# settings (URLs, CA, credentials) into this checkout's var/local.env (0600).
# Ports: REDIS_PORT (6379), OPENSEARCH_PORT (9200), PG_PORT (5432). Skips any service whose URL
# points elsewhere (OPENSEARCH_URL / REDIS_URL set by the caller). PostgreSQL is Debian's cluster
# (`postgresql` package, installed here when missing and we are root), run as the postgres user;
# the project role (CREATEDB: each test session makes its own database) gets a generated
# password, its URL goes into var/local.env as DATABASE_URL_PG (the app's DATABASE_URL stays
# SQLite unless the caller points it there).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_paths.sh
umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
mkdir -p var/run var/log

local_url() { case "${1:-}" in ""|*127.0.0.1*|*localhost*) return 0 ;; *) return 1 ;; esac; }

# redis-cli with the password from the environment, never on the command line
rcli() { REDISCLI_AUTH="$(secret REDIS_PASSWORD)" redis-cli -p "$REDIS_PORT" "$@"; }

redis_start() {
  local password; password="$(secret REDIS_PASSWORD)"
  set_local_env REDIS_URL "redis://:$password@127.0.0.1:$REDIS_PORT/0"
  if [ "$(rcli ping 2>/dev/null)" = "PONG" ]; then echo "[redis] already running on port $REDIS_PORT"; return; fi
  if [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; then
    echo "[redis] a Redis WITHOUT a password answers on port $REDIS_PORT (an older start);" \
         "stop it (bash scripts/services.sh stop, as its owner): it comes back with one" >&2
    exit 1
  fi
  # the password goes through a 0600 config file, not the process list
  (umask 077; cat > var/run/redis.conf <<CONF
port $REDIS_PORT
bind 127.0.0.1
protected-mode yes
requirepass $password
save ""
dir $PWD/var/run
pidfile $PWD/var/run/redis.pid
logfile $PWD/var/log/redis.log
daemonize yes
CONF
)
  redis-server var/run/redis.conf
  for _ in $(seq 1 50); do [ "$(rcli ping 2>/dev/null)" = "PONG" ] && { echo "[redis] started on port $REDIS_PORT (password required)"; return; }; sleep 0.1; done
  echo "[redis] failed to start; see var/log/redis.log" >&2; exit 1
}

PG_PORT="${PG_PORT:-5432}"
PG_ROLE="${PG_ROLE:-archive}"
PG_DB="${PG_DB:-archive}"

# psql as the cluster's superuser (the postgres OS user, peer authentication on the socket)
pg_super() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" "$@"; }

postgres_start() {
  if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "[postgres] the postgresql package is missing; install it as root (apt-get install postgresql)" >&2; exit 1
    fi
    echo "[postgres] installing Debian's postgresql"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql \
      > var/log/postgres-install.log 2>&1 || { apt-get update -q >/dev/null 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql \
      >> var/log/postgres-install.log 2>&1; } || { tail -20 var/log/postgres-install.log >&2; exit 1; }
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "[postgres] starting Debian's cluster needs root (it runs as the postgres user)" >&2; exit 1
  fi
  local version cluster
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  cluster="${PG_CLUSTER:-main}"
  if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$version/$cluster"; then
    pg_createcluster -p "$PG_PORT" "$version" "$cluster" >/dev/null
  fi
  if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1==v && $2==c {print $4}' | grep -q online; then
    pg_ctlcluster "$version" "$cluster" start
    echo "[postgres] started $version/$cluster on port $PG_PORT"
  else
    echo "[postgres] already running ($version/$cluster, port $PG_PORT)"
  fi
  local password; password="$(secret PG_PASSWORD)"
  # role and database, idempotent; the password travels on stdin, never in the process list
  pg_super -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB', '$PG_ROLE')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE') \gexec
ALTER ROLE "$PG_ROLE" WITH LOGIN CREATEDB PASSWORD '$password';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DB', '$PG_ROLE')
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
SQL
  set_local_env DATABASE_URL_PG "postgresql+psycopg://$PG_ROLE:$password@127.0.0.1:$PG_PORT/$PG_DB"
}

worker_start() {
  if [ -s var/run/worker.pid ] && kill -0 "$(cat var/run/worker.pid)" 2>/dev/null; then
    echo "[worker] already running"; return
  fi
  set -a; . var/local.env; set +a
  # --beat: one machine runs the schedule (audit chain check, lapsing requests) in the worker.
  # the worker indexes (worker user); index administration is not its business.
  # Its concurrency is WORKER_CONCURRENCY (search_app/config.py; default: one process per CPU),
  # and Tesseract's thread limit is OCR_THREADS (default 1), both set by the app at start-up.
  nohup env -u OPENSEARCH_ADMIN_PASSWORD .venv/bin/celery -A workers.worker worker --beat --loglevel=INFO \
    --schedule="$PWD/var/run/celerybeat-schedule" --pidfile="$PWD/var/run/worker.pid" \
    > var/log/worker.log 2>&1 &
  for _ in $(seq 1 60); do
    grep -q "ready" var/log/worker.log 2>/dev/null && { echo "[worker] started (log: var/log/worker.log)"; return; }
    sleep 0.5
  done
  echo "[worker] did not report ready; see var/log/worker.log" >&2; tail -20 var/log/worker.log >&2; exit 1
}

# The `ops` queue (scheduled backups: beat queues them there when BACKUP_INTERVAL_HOURS > 0) is
# taken only by a worker that holds the engine's admin identity (snapshots); the ingest worker
# above holds none. One process, one task at a time.
ops_worker_start() {
  if [ -s var/run/ops-worker.pid ] && kill -0 "$(cat var/run/ops-worker.pid)" 2>/dev/null; then
    echo "[ops-worker] already running"; return
  fi
  set -a; . var/local.env; set +a
  nohup env -u OPENSEARCH_WORKER_PASSWORD .venv/bin/celery -A workers.worker worker -Q ops \
    --concurrency 1 --hostname "ops@%h" --loglevel=INFO --pidfile="$PWD/var/run/ops-worker.pid" \
    > var/log/ops-worker.log 2>&1 &
  for _ in $(seq 1 60); do
    grep -q "ready" var/log/ops-worker.log 2>/dev/null && { echo "[ops-worker] started (log: var/log/ops-worker.log)"; return; }
    sleep 0.5
  done
  echo "[ops-worker] did not report ready; see var/log/ops-worker.log" >&2; tail -20 var/log/ops-worker.log >&2; exit 1
}

stop_pidfile() {
  local name="$1" file="$2"
  if [ -s "$file" ] && kill -0 "$(cat "$file")" 2>/dev/null; then
    kill "$(cat "$file")"; echo "[$name] stopped"
  fi
  rm -f "$file"
}

redis_stop() {
  if rcli shutdown nosave >/dev/null 2>&1 || [ "$(rcli ping 2>/dev/null)" != "PONG" ]; then
    echo "[redis] stopped (port $REDIS_PORT)"
  fi
}

case "${1:-}" in
  start)
    local_url "${REDIS_URL:-}" && redis_start
    local_url "${OPENSEARCH_URL:-}" && bash scripts/opensearch.sh start
    worker_start
    ops_worker_start ;;
  backends)  # the tests start their own worker, on their own Redis database
    local_url "${REDIS_URL:-}" && redis_start
    local_url "${OPENSEARCH_URL:-}" && bash scripts/opensearch.sh start
    postgres_start ;;
  postgres) postgres_start ;;
  cluster) bash scripts/opensearch.sh cluster-start ;;
  cluster-stop) bash scripts/opensearch.sh cluster-stop ;;
  stop)
    stop_pidfile worker var/run/worker.pid
    stop_pidfile ops-worker var/run/ops-worker.pid
    if local_url "${REDIS_URL:-}"; then redis_stop; fi
    if local_url "${OPENSEARCH_URL:-}"; then bash scripts/opensearch.sh stop; fi
    if [ "$(id -u)" -eq 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
      pg_lsclusters -h | awk -v p="$PG_PORT" '$3==p && $4=="online" {print $1, $2}' |
        while read -r v c; do pg_ctlcluster "$v" "$c" stop && echo "[postgres] stopped $v/$c"; done
    fi ;;
  status)
    rcli ping || true
    bash scripts/opensearch.sh status || true ;;
  *) echo "usage: $0 start|backends|postgres|cluster|cluster-stop|stop|status" >&2; exit 2 ;;
esac
