#!/usr/bin/env bash
# The whole test suite against real services (secured OpenSearch, Redis with its password,
# Tesseract), started here if they are not running. Extra arguments go to pytest.
# The fixtures read the services' URLs and credentials from var/local.env (written by
# scripts/services.sh), so a bare `.venv/bin/python -m pytest` works as well.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh backends
umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
mkdir -p test-artifacts
.venv/bin/python -m pytest "$@"
