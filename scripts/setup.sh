#!/usr/bin/env bash
# Everything the project needs on this machine, idempotent: Debian packages, the virtualenv with
# the project installed (editable, with test extras), the OpenSearch distribution with its security
# plugin and certificates, local keys.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install_system.sh

if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating virtualenv .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import search_app, pytest, yaml" >/dev/null 2>&1 \
   || [ pyproject.toml -nt .venv/.installed ]; then
  echo "[setup] installing Python dependencies"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[dev]"
  touch .venv/.installed
fi

bash scripts/opensearch.sh install

umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
mkdir -p var
# the app's own keys; scripts/services.sh adds the engine's and Redis's settings to the same file
(umask 077; touch var/local.env); chmod 600 var/local.env
for name in SECRET_KEY ARCHIVE_DATA_KEY ARCHIVE_BLIND_INDEX_KEY; do
  if ! grep -q "^$name=" var/local.env; then
    echo "[setup] generating $name in var/local.env (keep this file private)"
    echo "$name=$(.venv/bin/python -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))')" >> var/local.env
  fi
done
