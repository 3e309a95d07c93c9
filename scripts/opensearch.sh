#!/usr/bin/env bash
# Local single-node OpenSearch for development and tests.
#   scripts/opensearch.sh install|start|stop|status
# The distribution zip comes from Maven Central through `mvn dependency:copy` into a cache outside
# git; it runs as a dedicated non-root system user, bound to 127.0.0.1, with a fixed heap.
set -euo pipefail

OS_VERSION="${OPENSEARCH_VERSION:-2.19.3}"
OS_PORT="${OPENSEARCH_PORT:-9200}"
OS_HEAP="${OPENSEARCH_HEAP:-1g}"
OS_USER="${OPENSEARCH_USER:-opensearch}"
if [ "$(id -u)" -eq 0 ]; then
  BASE="${ARCHIVE_RUNTIME_DIR:-/var/lib/archive-search}"
else
  BASE="${ARCHIVE_RUNTIME_DIR:-$HOME/.local/share/archive-search}"
fi
CACHE="${ARCHIVE_CACHE_DIR:-$BASE/cache}"
HOME_DIR="$BASE/opensearch-$OS_VERSION"
DATA_DIR="$BASE/opensearch-data"
LOG_DIR="$BASE/opensearch-logs"
PID_FILE="$BASE/opensearch.pid"
URL="http://127.0.0.1:$OS_PORT"

log() { echo "[opensearch] $*"; }

run_as_os_user() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$OS_USER" -- "$@"
  else
    "$@"
  fi
}

fetch() {
  local zip="$CACHE/opensearch-$OS_VERSION.zip"
  if [ -s "$zip" ]; then return 0; fi
  mkdir -p "$CACHE"
  log "fetching distribution $OS_VERSION with mvn dependency:copy"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && mvn -q -B dependency:copy \
      "-Dartifact=org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip" \
      "-DoutputDirectory=$CACHE")
  rm -rf "$tmp"
  [ -s "$zip" ] || { log "download failed: $zip missing"; exit 1; }
}

install() {
  if [ -x "$HOME_DIR/bin/opensearch" ]; then configure; return 0; fi
  fetch
  mkdir -p "$BASE"
  log "unpacking into $HOME_DIR"
  local tmp; tmp="$(mktemp -d "$BASE/unpack.XXXX")"
  unzip -q "$CACHE/opensearch-$OS_VERSION.zip" -d "$tmp"
  mv "$tmp/opensearch-$OS_VERSION" "$HOME_DIR"
  rm -rf "$tmp"
  configure
}

configure() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  cat > "$HOME_DIR/config/opensearch.yml" <<YML
cluster.name: archive-search-local
node.name: local-1
network.host: 127.0.0.1
http.port: $OS_PORT
discovery.type: single-node
path.data: $DATA_DIR
path.logs: $LOG_DIR
# a development node must not turn indices read-only because the shared disk is busy
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false
YML
  mkdir -p "$HOME_DIR/config/jvm.options.d"
  printf -- '-Xms%s\n-Xmx%s\n' "$OS_HEAP" "$OS_HEAP" > "$HOME_DIR/config/jvm.options.d/heap.options"
  if [ "$(id -u)" -eq 0 ]; then
    id -u "$OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
    chmod 755 "$BASE"
    chown -R "$OS_USER:" "$HOME_DIR" "$DATA_DIR" "$LOG_DIR"
  fi
}

healthy() {
  curl -fsS "$URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1
}

start() {
  if healthy; then log "already running at $URL"; return 0; fi
  install
  local java_home="${OPENSEARCH_JAVA_HOME:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}"
  log "starting $OS_VERSION at $URL (heap $OS_HEAP, user $( [ "$(id -u)" -eq 0 ] && echo "$OS_USER" || id -un))"
  rm -f "$PID_FILE"  # a stale pid from an earlier run would look like a crash during start-up
  touch "$PID_FILE"; if [ "$(id -u)" -eq 0 ]; then chown "$OS_USER:" "$PID_FILE"; fi
  run_as_os_user env OPENSEARCH_JAVA_HOME="$java_home" "$HOME_DIR/bin/opensearch" -d -p "$PID_FILE" >"$LOG_DIR/startup.out" 2>&1 || { cat "$LOG_DIR/startup.out" >&2; exit 1; }
  local i
  for i in $(seq 1 120); do
    if curl -fsS "$URL/_cluster/health?wait_for_status=green&timeout=1s" >/dev/null 2>&1; then
      log "green after ${i}s"; return 0
    fi
    if [ -s "$PID_FILE" ] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "process exited during start-up"; break
    fi
    sleep 1
  done
  log "did not become healthy in 120 s; last log lines:"
  tail -n 40 "$LOG_DIR/archive-search-local.log" >&2 || true
  exit 1
}

running_pid() {
  if [ -s "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then cat "$PID_FILE"; return; fi
  # no usable pid file (e.g. removed during a failed start): find the node by its home directory
  pgrep -f "opensearch.path.home=$HOME_DIR( |$)" | head -n 1 || true
}

stop() {
  local pid; pid="$(running_pid)"
  if [ -n "$pid" ]; then
    log "stopping pid $pid"
    kill "$pid"
    local i
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { log "stopped"; return 0; }; sleep 1; done
    log "still running after 60 s, killing"; kill -9 "$pid" || true
  else
    log "not running"
  fi
}

status() {
  if healthy; then curl -fsS "$URL/_cluster/health?pretty"; else log "not reachable at $URL"; exit 3; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
