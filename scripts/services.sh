#!/usr/bin/env bash
# Local Redis, OpenSearch and one Celery worker:  scripts/services.sh start|backends|stop|status
# Both backends require authentication (docs/security.md): Redis a password generated on first
# start (requirepass), OpenSearch its security plugin. Each start writes the app's connection
# settings (URLs, CA, credentials) into this checkout's var/local.env (0600).
# Ports: REDIS_PORT (6379), OPENSEARCH_PORT (9200). Skips any service whose URL points elsewhere
# (OPENSEARCH_URL / REDIS_URL set by the caller).
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
    worker_start ;;
  backends)  # the tests start their own worker, on their own Redis database
    local_url "${REDIS_URL:-}" && redis_start
    local_url "${OPENSEARCH_URL:-}" && bash scripts/opensearch.sh start ;;
  stop)
    stop_pidfile worker var/run/worker.pid
    if local_url "${REDIS_URL:-}"; then redis_stop; fi
    if local_url "${OPENSEARCH_URL:-}"; then bash scripts/opensearch.sh stop; fi ;;
  status)
    rcli ping || true
    bash scripts/opensearch.sh status || true ;;
  *) echo "usage: $0 start|backends|stop|status" >&2; exit 2 ;;
esac
