#!/usr/bin/env bash
# Everything the project needs on this machine, idempotent: Debian packages, the virtualenv with
# the project installed (editable, with test extras), the OpenSearch distribution, local keys.
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
if [ ! -s var/local.env ]; then
  echo "[setup] generating local keys in var/local.env (keep this file private)"
  umask 077
  .venv/bin/python - > var/local.env <<'PY'
import base64, os
for name in ("SECRET_KEY", "ARCHIVE_DATA_KEY", "ARCHIVE_BLIND_INDEX_KEY"):
    print(f"{name}={base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip('=')}")
PY
fi
