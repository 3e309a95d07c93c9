#!/usr/bin/env bash
# Local single-node OpenSearch, secured, for development and tests.
#   scripts/opensearch.sh install|start|stop|status
#   scripts/opensearch.sh cluster-start|cluster-stop [N]|cluster-status|cluster-pid N|cluster-env
#     (a separate secured 2-node cluster on ports 9201/9202 and 9301/9302: scripts/opensearch_cluster.sh)
# The distribution zip and the security plugin come from Maven Central through `mvn
# dependency:copy` into a cache outside git; the node runs as a dedicated non-root system user,
# bound to 127.0.0.1, with a fixed heap, TLS on HTTP and transport (a private CA made here) and
# three least-privilege internal users whose passwords are generated at install
# (docs/security.md). Ports: OPENSEARCH_PORT (9200), OPENSEARCH_TRANSPORT_PORT (9300).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_paths.sh

OS_VERSION="${OPENSEARCH_VERSION:-2.19.3}"
SECURITY_VERSION="${OPENSEARCH_SECURITY_VERSION:-$OS_VERSION.0}"
OS_HEAP="${OPENSEARCH_HEAP:-1g}"
OS_USER="${OPENSEARCH_USER:-opensearch}"
OS_INDEX="${OPENSEARCH_INDEX:-archive-pages}"
HOME_DIR="$BASE/opensearch-$OS_VERSION"
DATA_DIR="$BASE/opensearch-data"
LOG_DIR="$BASE/opensearch-logs"
SNAPSHOT_DIR="$BASE/opensearch-snapshots"
PID_FILE="$BASE/opensearch.pid"
URL="https://127.0.0.1:$OS_PORT"
PYTHON="${ARCHIVE_PYTHON:-.venv/bin/python}"

log() { echo "[opensearch] $*"; }

is_root() { [ "$(id -u)" -eq 0 ]; }

run_as_os_user() {
  if is_root; then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
}

java_home() {
  echo "${OPENSEARCH_JAVA_HOME:-${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}}"
}

mvn_fetch() {  # mvn_fetch ARTIFACT FILE
  local artifact="$1" file="$2"
  if [ -s "$CACHE/$file" ]; then return 0; fi
  mkdir -p "$CACHE"
  log "fetching $artifact with mvn dependency:copy"
  local tmp; tmp="$(mktemp -d)"
  (cd "$tmp" && mvn -q -B dependency:copy "-Dartifact=$artifact" "-DoutputDirectory=$CACHE")
  rm -rf "$tmp"
  [ -s "$CACHE/$file" ] || { log "download failed: $CACHE/$file missing"; exit 1; }
}

install_distribution() {  # the distribution and the security plugin, no configuration
  mvn_fetch "org.opensearch.distribution.integ-test-zip:opensearch:$OS_VERSION:zip" "opensearch-$OS_VERSION.zip"
  mvn_fetch "org.opensearch.plugin:opensearch-security:$SECURITY_VERSION:zip" "opensearch-security-$SECURITY_VERSION.zip"
  mkdir -p "$BASE"
  if [ ! -x "$HOME_DIR/bin/opensearch" ]; then
    log "unpacking into $HOME_DIR"
    local tmp; tmp="$(mktemp -d "$BASE/unpack.XXXX")"
    unzip -q "$CACHE/opensearch-$OS_VERSION.zip" -d "$tmp"
    mv "$tmp/opensearch-$OS_VERSION" "$HOME_DIR"
    rm -rf "$tmp"
  fi
  if [ ! -f "$HOME_DIR/plugins/opensearch-security/plugin-descriptor.properties" ]; then
    log "installing the security plugin $SECURITY_VERSION"
    mkdir -p "$LOG_DIR"
    OPENSEARCH_JAVA_HOME="$(java_home)" "$HOME_DIR/bin/opensearch-plugin" install --batch \
      "file://$CACHE/opensearch-security-$SECURITY_VERSION.zip" > "$LOG_DIR/plugin-install.out" 2>&1 \
      || { cat "$LOG_DIR/plugin-install.out" >&2; log "plugin install failed"; exit 1; }
  fi
}

do_install() {
  install_distribution
  configure
}

security_settings() {  # the opensearch.yml lines every node shares (local node and cluster nodes)
  cat <<'YML'
# security plugin: TLS on both layers, internal users only, no demo configuration
plugins.security.ssl.transport.pemcert_filepath: certs/node.pem
plugins.security.ssl.transport.pemkey_filepath: certs/node.key
plugins.security.ssl.transport.pemtrustedcas_filepath: certs/ca.pem
plugins.security.ssl.transport.enforce_hostname_verification: false
plugins.security.ssl.http.enabled: true
plugins.security.ssl.http.pemcert_filepath: certs/node.pem
plugins.security.ssl.http.pemkey_filepath: certs/node.key
plugins.security.ssl.http.pemtrustedcas_filepath: certs/ca.pem
plugins.security.allow_default_init_securityindex: true
plugins.security.authcz.admin_dn: ["CN=archive-admin,OU=engine,O=archive-search"]
plugins.security.nodes_dn: ["CN=archive-node,OU=engine,O=archive-search"]
plugins.security.enable_snapshot_restore_privilege: true
plugins.security.check_snapshot_restore_write_privileges: true
plugins.security.audit.type: noop
YML
}

configure() {
  [ -x "$PYTHON" ] || PYTHON=python3
  "$PYTHON" -c "import bcrypt, cryptography" 2>/dev/null || {
    log "$PYTHON lacks bcrypt/cryptography: run scripts/setup.sh first (it builds .venv)"; exit 1; }
  mkdir -p "$DATA_DIR" "$LOG_DIR" "$SNAPSHOT_DIR"
  if is_root; then
    id -u "$OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  # certificates: CA, node, admin (kept in $CERTS_DIR, root only but ca.pem); the node's copies
  # go into its config directory, readable by the node's user only
  (umask 077; "$PYTHON" scripts/engine_security.py certs "$CERTS_DIR" --hosts localhost,127.0.0.1)
  chmod 755 "$CERTS_DIR"; chmod 644 "$CERTS_DIR/ca.pem"
  local cfg="$HOME_DIR/config"
  mkdir -p "$cfg/certs"
  install -m 600 "$CERTS_DIR/node.pem" "$CERTS_DIR/node.key" "$cfg/certs/"
  install -m 644 "$CERTS_DIR/ca.pem" "$cfg/certs/"
  # the security index is initialised from these files at the node's first start
  OPENSEARCH_WEB_PASSWORD="$(secret OPENSEARCH_WEB_PASSWORD)" \
  OPENSEARCH_WORKER_PASSWORD="$(secret OPENSEARCH_WORKER_PASSWORD)" \
  OPENSEARCH_ADMIN_PASSWORD="$(secret OPENSEARCH_ADMIN_PASSWORD)" \
    "$PYTHON" scripts/engine_security.py config "$cfg/opensearch-security" --alias "$OS_INDEX" >/dev/null
  cat > "$cfg/opensearch.yml" <<YML
cluster.name: archive-search-local
node.name: local-1
network.host: 127.0.0.1
http.port: $OS_PORT
transport.port: $OS_TRANSPORT_PORT
discovery.type: single-node
path.data: $DATA_DIR
path.logs: $LOG_DIR
path.repo: ["$SNAPSHOT_DIR"]
# a development node must not turn indices read-only because the shared disk is busy
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false

$(security_settings)
YML
  mkdir -p "$cfg/jvm.options.d"
  printf -- '-Xms%s\n-Xmx%s\n' "$OS_HEAP" "$OS_HEAP" > "$cfg/jvm.options.d/heap.options"
  if is_root; then
    chmod 755 "$BASE"
    chown -R "$OS_USER:" "$HOME_DIR" "$DATA_DIR" "$LOG_DIR" "$SNAPSHOT_DIR"
  fi
  chmod 600 "$cfg"/opensearch-security/*.yml "$cfg/certs/node.key"
}

# Load the YAML files into the running node's security index with the admin certificate, when
# they differ from what was last applied (roles changed by a new version, rotated passwords).
# At the very first start the node initialised the index from the same files itself.
apply_security() {
  apply_security_from "$HOME_DIR/config/opensearch-security"
}

apply_security_from() {  # the node at $OS_PORT, from the YAML files in directory $1
  local cfg="$1" applied="$SECRETS_DIR/security.applied.$OS_PORT"
  local want; want="$(cat "$cfg/.archive-inputs.sha256")"
  if [ -f "$applied" ] && [ "$(cat "$applied")" = "$want" ]; then return 0; fi
  log "applying the security configuration (users, roles) with securityadmin.sh"
  local tmp; tmp="$(mktemp -d)"
  cp "$CERTS_DIR/admin.pem" "$CERTS_DIR/admin.key" "$CERTS_DIR/ca.pem" "$tmp/"
  if is_root; then chown -R "$OS_USER:" "$tmp"; fi
  chmod 700 "$tmp"; chmod 600 "$tmp"/*
  if ! run_as_os_user env OPENSEARCH_JAVA_HOME="$(java_home)" JAVA_HOME="$(java_home)" \
      bash "$HOME_DIR/plugins/opensearch-security/tools/securityadmin.sh" \
      -cd "$cfg" -icl -nhnv -h 127.0.0.1 -p "$OS_PORT" \
      -cacert "$tmp/ca.pem" -cert "$tmp/admin.pem" -key "$tmp/admin.key" > "${SECADMIN_LOG:-$LOG_DIR/securityadmin.out}" 2>&1; then
    rm -rf "$tmp"; tail -n 20 "${SECADMIN_LOG:-$LOG_DIR/securityadmin.out}" >&2
    log "securityadmin.sh failed (log: ${SECADMIN_LOG:-$LOG_DIR/securityadmin.out})"; exit 1
  fi
  rm -rf "$tmp"
  echo "$want" > "$applied"; chmod 600 "$applied"
}

# curl as the admin identity, password on stdin (never in the process list)
admin_curl() {
  local path="$1"; shift
  printf 'user = "archive_admin:%s"\n' "$(secret OPENSEARCH_ADMIN_PASSWORD)" |
    curl -fsS -K - --cacert "$CERTS_DIR/ca.pem" "$@" "$URL$path"
}

healthy() {
  admin_curl "/_cluster/health?wait_for_status=${1:-yellow}&timeout=1s" >/dev/null 2>&1
}

open_node_here() {  # something answers plain, unauthenticated HTTP on our port
  curl -fsS -m 2 "http://127.0.0.1:$OS_PORT/" >/dev/null 2>&1
}

start() {
  if healthy; then log "already running at $URL (secured)"; configure; apply_security; return 0; fi
  if open_node_here; then
    log "an UNSECURED OpenSearch answers plain HTTP on port $OS_PORT (an older install)."
    log "stop it first (bash scripts/services.sh stop, as its owner); it comes back secured"
    exit 1
  fi
  do_install
  log "starting $OS_VERSION at $URL (heap $OS_HEAP, user $(is_root && echo "$OS_USER" || id -un))"
  rm -f "$PID_FILE"  # a stale pid from an earlier run would look like a crash during start-up
  touch "$PID_FILE"; if is_root; then chown "$OS_USER:" "$PID_FILE"; fi
  run_as_os_user env OPENSEARCH_JAVA_HOME="$(java_home)" "$HOME_DIR/bin/opensearch" -d -p "$PID_FILE" >"$LOG_DIR/startup.out" 2>&1 || { cat "$LOG_DIR/startup.out" >&2; exit 1; }
  local i
  for i in $(seq 1 180); do
    if healthy green; then log "green after ${i}s"; apply_security; return 0; fi
    if [ -s "$PID_FILE" ] && ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      log "process exited during start-up"; break
    fi
    sleep 1
  done
  log "did not become healthy in 180 s; last log lines:"
  tail -n 40 "$LOG_DIR/archive-search-local.log" >&2 || true
  exit 1
}

running_pid() {
  if [ -s "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then cat "$PID_FILE"; return; fi
  # no usable pid file (e.g. removed during a failed start): find the node by its config
  # directory (the cluster's nodes share the home directory, never this config directory)
  pgrep -f "opensearch.path.conf=$HOME_DIR/config( |$)" | head -n 1 || true
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
  if healthy; then admin_curl "/_cluster/health?pretty"; else log "not reachable at $URL"; exit 3; fi
}

# the app's settings for this engine, into this checkout's var/local.env
local_env() {
  set_local_env OPENSEARCH_URL "$URL"
  set_local_env OPENSEARCH_CA_CERTS "$CERTS_DIR/ca.pem"
  local who
  for who in WEB WORKER ADMIN; do
    set_local_env "OPENSEARCH_${who}_USER" "archive_$(echo "$who" | tr 'A-Z' 'a-z')"
    set_local_env "OPENSEARCH_${who}_PASSWORD" "$(secret "OPENSEARCH_${who}_PASSWORD")"
  done
  # `flask backup` has the engine snapshot into this directory (the node's path.repo)
  set_local_env BACKUP_SNAPSHOT_DIR "$SNAPSHOT_DIR"
  set_local_env OPENSEARCH_REPLICAS auto  # replicas follow the data nodes: none on one node
}

. scripts/opensearch_cluster.sh

case "${1:-}" in
  install) do_install; local_env ;;
  start) start; local_env ;;
  stop) stop ;;
  status) status ;;
  # after editing roles or rotating a password in $SECRETS_ENV (docs/security.md)
  apply-security) configure; apply_security; local_env ;;
  cluster-start) cluster_start ;;
  cluster-stop) cluster_stop "${2:-}" ;;
  cluster-status) cluster_status ;;
  cluster-pid) cl_pid "${2:?usage: $0 cluster-pid N}" ;;
  cluster-env) cluster_env ;;
  *) echo "usage: $0 install|start|stop|status|apply-security|cluster-start|cluster-stop [N]|cluster-status|cluster-pid N|cluster-env" >&2; exit 2 ;;
esac
