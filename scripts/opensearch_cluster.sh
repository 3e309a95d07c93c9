# Sourced by scripts/opensearch.sh: a separate N-node secured OpenSearch cluster (default 2 nodes)
# from the same distribution as the local node, for cluster and fail-over tests:
#   scripts/opensearch.sh cluster-start | cluster-stop [N] | cluster-status | cluster-pid N | cluster-env
# It never touches the local node (port 9200, its config directory, its data): each cluster node
# has its own config directory (OPENSEARCH_PATH_CONF), data, logs and pid file under
# $BASE/cluster/node-N, its own ports (HTTP 9201.., transport 9301..) and its own cluster name.
# Same private CA, same node certificate (its DN is plugins.security.nodes_dn, so the nodes'
# transport TLS accepts each other; hostname verification is off, every node is on 127.0.0.1),
# same internal users and roles as the local node. Every node is cluster-manager-eligible and holds
# data: with two, the voting configuration holds one of them (the elected manager), so the
# cluster survives the loss of the other node; losing the elected manager blocks writes until it
# returns (docs/operations.md, *Node loss*). OPENSEARCH_CLUSTER_NODES=3 gives a cluster that
# survives the loss of any one node.

CL_NODES="${OPENSEARCH_CLUSTER_NODES:-2}"
CL_HTTP_BASE="${OPENSEARCH_CLUSTER_PORT:-9201}"
CL_TRANSPORT_BASE="${OPENSEARCH_CLUSTER_TRANSPORT_PORT:-9301}"
CL_HEAP="${OPENSEARCH_CLUSTER_HEAP:-512m}"
CL_NAME="${OPENSEARCH_CLUSTER_NAME:-archive-search-cluster}"
CL_DIR="$BASE/cluster"
CL_SNAPSHOTS="$CL_DIR/snapshots"   # path.repo, shared by every node (fs snapshot repository)

cl_http() { echo $((CL_HTTP_BASE + $1 - 1)); }
cl_transport() { echo $((CL_TRANSPORT_BASE + $1 - 1)); }
cl_node_dir() { echo "$CL_DIR/node-$1"; }
cl_urls() {
  local i out=""
  for i in $(seq 1 "$CL_NODES"); do out="$out${out:+,}https://127.0.0.1:$(cl_http "$i")"; done
  echo "$out"
}

cl_curl() {  # cl_curl NODE PATH [curl args]: as the admin user, password on stdin
  local node="$1" path="$2"; shift 2
  printf 'user = "archive_admin:%s"\n' "$(secret OPENSEARCH_ADMIN_PASSWORD)" |
    curl -fsS -K - --cacert "$CERTS_DIR/ca.pem" "$@" "https://127.0.0.1:$(cl_http "$node")$path"
}

cl_pid() {  # the pid of node N if it runs, else nothing
  local nd; nd="$(cl_node_dir "$1")"
  if [ -s "$nd/opensearch.pid" ] && kill -0 "$(cat "$nd/opensearch.pid")" 2>/dev/null; then
    cat "$nd/opensearch.pid"; return
  fi
  # the pid file is written only once the node has bootstrapped: find it by its config directory
  pgrep -f "opensearch.path.conf=$nd/config( |$)" | head -n 1 || true
}

cl_configure_node() {  # the config directory of node N, from scratch each time (cheap)
  local i="$1" nd cfg seeds="" managers="" j
  nd="$(cl_node_dir "$i")"; cfg="$nd/config"
  mkdir -p "$cfg/certs" "$cfg/jvm.options.d" "$cfg/opensearch-security" "$nd/data" "$nd/logs" "$CL_SNAPSHOTS"
  # the distribution's own files (the local node's config directory is only read, never written)
  cp "$HOME_DIR/config/jvm.options" "$HOME_DIR/config/log4j2.properties" "$cfg/"
  printf -- '-Xms%s\n-Xmx%s\n' "$CL_HEAP" "$CL_HEAP" > "$cfg/jvm.options.d/heap.options"
  install -m 600 "$CERTS_DIR/node.pem" "$CERTS_DIR/node.key" "$cfg/certs/"
  install -m 644 "$CERTS_DIR/ca.pem" "$cfg/certs/"
  cp -a "$CL_DIR/security/." "$cfg/opensearch-security/"
  for j in $(seq 1 "$CL_NODES"); do
    seeds="$seeds${seeds:+, }\"127.0.0.1:$(cl_transport "$j")\""
    managers="$managers${managers:+, }\"cluster-$j\""
  done
  cat > "$cfg/opensearch.yml" <<YML
cluster.name: $CL_NAME
node.name: cluster-$i
node.roles: [cluster_manager, data, ingest]
network.host: 127.0.0.1
http.port: $(cl_http "$i")
transport.port: $(cl_transport "$i")
discovery.seed_hosts: [$seeds]
# read only when the cluster forms for the first time (empty data directories)
cluster.initial_cluster_manager_nodes: [$managers]
path.data: $nd/data
path.logs: $nd/logs
path.repo: ["$CL_SNAPSHOTS"]
cluster.routing.allocation.disk.threshold_enabled: false
action.auto_create_index: false

$(security_settings)
YML
  if is_root; then
    chmod 755 "$BASE" "$CL_DIR"
    chown -R "$OS_USER:" "$nd" "$CL_SNAPSHOTS"
  fi
  chmod 600 "$cfg"/opensearch-security/*.yml "$cfg/certs/node.key"
}

cl_security_files() {  # once for all nodes (bcrypt is slow on a busy machine)
  local dir="$CL_DIR/security"
  mkdir -p "$dir"; chmod 700 "$dir"
  # the plugin's default files (audit.yml, ...) first, then our users and roles over them
  cp -n "$HOME_DIR/config/opensearch-security/"*.yml "$dir/" 2>/dev/null || true
  OPENSEARCH_WEB_PASSWORD="$(secret OPENSEARCH_WEB_PASSWORD)" \
  OPENSEARCH_WORKER_PASSWORD="$(secret OPENSEARCH_WORKER_PASSWORD)" \
  OPENSEARCH_ADMIN_PASSWORD="$(secret OPENSEARCH_ADMIN_PASSWORD)" \
    "$PYTHON" scripts/engine_security.py config "$dir" --alias "$OS_INDEX" >/dev/null
}

cl_start_node() {
  local i="$1" nd; nd="$(cl_node_dir "$i")"
  if [ -n "$(cl_pid "$i")" ]; then log "cluster-$i already running (pid $(cl_pid "$i"))"; return 0; fi
  if curl -s -m 2 -o /dev/null "https://127.0.0.1:$(cl_http "$i")/" -k; then
    log "port $(cl_http "$i") is taken by something that is not cluster-$i"; exit 1
  fi
  cl_configure_node "$i"
  rm -f "$nd/opensearch.pid"; touch "$nd/opensearch.pid"
  if is_root; then chown "$OS_USER:" "$nd/opensearch.pid"; fi
  log "starting cluster-$i (https://127.0.0.1:$(cl_http "$i"), transport $(cl_transport "$i"), heap $CL_HEAP)"
  run_as_os_user env OPENSEARCH_JAVA_HOME="$(java_home)" OPENSEARCH_PATH_CONF="$nd/config" \
    "$HOME_DIR/bin/opensearch" -d -p "$nd/opensearch.pid" > "$nd/logs/startup.out" 2>&1 ||
    { cat "$nd/logs/startup.out" >&2; exit 1; }
}

cl_wait() {  # every node in the cluster and the cluster green, within OPENSEARCH_CLUSTER_WAIT_S
  local limit="${OPENSEARCH_CLUSTER_WAIT_S:-300}" i n
  for i in $(seq 1 "$limit"); do
    if cl_curl 1 "/_cluster/health?wait_for_nodes=$CL_NODES&wait_for_status=green&timeout=1s" >/dev/null 2>&1; then
      log "cluster $CL_NAME: $CL_NODES nodes, green after ${i}s"; return 0
    fi
    for n in $(seq 1 "$CL_NODES"); do
      if [ -z "$(cl_pid "$n")" ]; then
        log "cluster-$n exited during start-up; last log lines:"
        tail -n 30 "$(cl_node_dir "$n")/logs/$CL_NAME.log" >&2 || true; exit 1
      fi
    done
    sleep 1
  done
  log "cluster not green with $CL_NODES nodes after ${limit}s"; exit 1
}

cluster_start() {
  install_distribution
  [ -x "$PYTHON" ] || PYTHON=python3
  if is_root; then
    id -u "$OS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  (umask 077; "$PYTHON" scripts/engine_security.py certs "$CERTS_DIR" --hosts localhost,127.0.0.1)
  chmod 755 "$CERTS_DIR"; chmod 644 "$CERTS_DIR/ca.pem"
  mkdir -p "$CL_DIR"
  local i fresh=yes
  for i in $(seq 1 "$CL_NODES"); do
    [ -n "$(ls -A "$(cl_node_dir "$i")/data" 2>/dev/null)" ] && fresh=no
  done
  cl_security_files
  # in parallel: `opensearch -d` returns only once its node has started
  local pids=() failed=0 p
  for i in $(seq 1 "$CL_NODES"); do cl_start_node "$i" & pids+=("$!"); done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || { log "a cluster node failed to start"; exit 1; }
  cl_wait
  local cfg; cfg="$(cl_node_dir 1)/config/opensearch-security"
  if [ "$fresh" = yes ]; then
    # a new cluster initialised its security index from exactly these files: nothing to apply
    echo "$(cat "$cfg/.archive-inputs.sha256")" > "$SECRETS_DIR/security.applied.$(cl_http 1)"
    chmod 600 "$SECRETS_DIR/security.applied.$(cl_http 1)"
  fi
  # later changes (roles, rotated passwords) are applied like the local node's
  OS_PORT="$(cl_http 1)" SECADMIN_LOG="$(cl_node_dir 1)/logs/securityadmin.out" apply_security_from "$cfg"
}

cluster_stop() {  # all nodes, or node N only; only processes started from our pid files
  local nodes="${1:-$(seq 1 "$CL_NODES")}" i pid
  for i in $nodes; do
    pid="$(cl_pid "$i")"
    if [ -z "$pid" ]; then log "cluster-$i not running"; continue; fi
    log "stopping cluster-$i (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then log "cluster-$i still running after 60 s, killing"; kill -9 "$pid" || true; fi
  done
}

cluster_status() {
  local i up=""
  for i in $(seq 1 "$CL_NODES"); do
    echo "cluster-$i https://127.0.0.1:$(cl_http "$i") pid=$(cl_pid "$i")"
    [ -n "$(cl_pid "$i")" ] && up="$i"
  done
  [ -n "$up" ] || { log "no cluster node running"; exit 3; }
  cl_curl "$up" "/_cat/nodes?v&h=name,node.role,cluster_manager,heap.max" || true
  cl_curl "$up" "/_cluster/health?pretty"
}

# the app's settings for the cluster into var/local.env (replaces the local node's URL)
cluster_env() {
  set_local_env OPENSEARCH_URL "$(cl_urls)"
  set_local_env OPENSEARCH_REPLICAS auto  # one replica while both nodes are up
  set_local_env BACKUP_SNAPSHOT_DIR "$CL_SNAPSHOTS"
  log "var/local.env now points at $(cl_urls) (replicas auto: one per shard on two nodes); scripts/opensearch.sh start points it back"
}
