#!/usr/bin/env bash
# Local Redis, OpenSearch and one Celery worker:  scripts/services.sh start|backends|stop|status
# Skips any service whose URL points elsewhere (OPENSEARCH_URL / REDIS_URL set by the caller).
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
mkdir -p var/run var/log
REDIS_PORT=6379

local_url() { case "${1:-}" in ""|*127.0.0.1*|*localhost*) return 0 ;; *) return 1 ;; esac; }

redis_start() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then echo "[redis] already running"; return; fi
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
    --dir "$PWD/var/run" --pidfile "$PWD/var/run/redis.pid" --logfile "$PWD/var/log/redis.log"
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { echo "[redis] started"; return; }; sleep 0.1; done
  echo "[redis] failed to start; see var/log/redis.log" >&2; exit 1
}

worker_start() {
  if [ -s var/run/worker.pid ] && kill -0 "$(cat var/run/worker.pid)" 2>/dev/null; then
    echo "[worker] already running"; return
  fi
  set -a; . var/local.env; set +a
  # --beat: one machine runs the schedule (audit chain check, lapsing requests) in the worker.
  OMP_THREAD_LIMIT=1 nohup .venv/bin/celery -A workers.worker worker --beat --loglevel=INFO \
    --schedule="$PWD/var/run/celerybeat-schedule" \
    --concurrency="${WORKER_CONCURRENCY:-2}" --pidfile="$PWD/var/run/worker.pid" \
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
    local_url "${REDIS_URL:-}" && redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 && echo "[redis] stopped" || true
    local_url "${OPENSEARCH_URL:-}" && bash scripts/opensearch.sh stop ;;
  status)
    redis-cli -p "$REDIS_PORT" ping || true
    bash scripts/opensearch.sh status || true ;;
  *) echo "usage: $0 start|backends|stop|status" >&2; exit 2 ;;
esac
