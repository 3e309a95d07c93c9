#!/usr/bin/env bash
# The whole test suite against real services (OpenSearch, Redis, Tesseract), started here if they
# are not running. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/services.sh backends
umask 077  # var/ (database, keys, logs, uploads, blobs) owner-only: dirs 0700, files 0600
mkdir -p test-artifacts
.venv/bin/python -m pytest "$@"
