# Sourced by the other scripts: where the machine-wide runtime lives, and its generated secrets.
# The runtime (OpenSearch install, certificates, service passwords) belongs to the machine, not
# to one checkout, so a second clone on the same machine finds the same engine and its passwords;
# each checkout copies the app's settings into its own var/local.env (write_local_env).
if [ "$(id -u)" -eq 0 ]; then
  BASE="${ARCHIVE_RUNTIME_DIR:-/var/lib/archive-search}"
else
  BASE="${ARCHIVE_RUNTIME_DIR:-$HOME/.local/share/archive-search}"
fi
CACHE="${ARCHIVE_CACHE_DIR:-$BASE/cache}"
OS_PORT="${OPENSEARCH_PORT:-9200}"
OS_TRANSPORT_PORT="${OPENSEARCH_TRANSPORT_PORT:-9300}"
REDIS_PORT="${REDIS_PORT:-6379}"
SECRETS_DIR="$BASE/secrets"          # 0700, root (or the installing user) only
SECRETS_ENV="$SECRETS_DIR/services.env"
CERTS_DIR="$BASE/certs"              # ca.pem is public; every key in it is 0600

# secret NAME: the value of NAME in $SECRETS_ENV, generated (32 random bytes, hex) on first use.
secret() {
  local name="$1" value=""
  mkdir -p "$SECRETS_DIR"; chmod 700 "$SECRETS_DIR"
  [ -f "$SECRETS_ENV" ] || { (umask 077; : > "$SECRETS_ENV"); }
  value="$(sed -n "s/^$name=//p" "$SECRETS_ENV" | tail -n 1)"
  if [ -z "$value" ]; then
    value="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
    (umask 077; echo "$name=$value" >> "$SECRETS_ENV")
  fi
  chmod 600 "$SECRETS_ENV"
  printf '%s' "$value"
}

# set_local_env NAME VALUE: write NAME=VALUE into var/local.env (0600), replacing an older line.
set_local_env() {
  local name="$1" value="$2" file="var/local.env"
  mkdir -p var; [ -f "$file" ] || { (umask 077; : > "$file"); }
  chmod 600 "$file"
  grep -v "^$name=" "$file" > "$file.tmp" || true
  printf '%s=%s\n' "$name" "$value" >> "$file.tmp"
  chmod 600 "$file.tmp"; mv "$file.tmp" "$file"
}
