"""The one place that reads the environment.

Every setting has a type and a default suited to the one-machine start; production overrides come
from the environment (docker-compose.yml sets the same names). Secrets have no default: the app
refuses to start without them rather than run with a key somebody can read in the source.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

# The parsers; ConfigError and IPNetwork stay importable from here.
from search_app.config_parsers import ConfigError, IPNetwork, _parse, cpu_count  # noqa: F401

# name -> (parser, default); a default of None means "required".
_SPEC: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("str", None),
    "ARCHIVE_DATA_KEY": ("key", None),
    "ARCHIVE_DATA_KEY_ID": ("key_id", "k1"),
    # Retired data keys still needed to decrypt what they wrote, "k1:<base64>,k0:<base64>", until
    # `flask rotate-keys` has re-encrypted everything under the current key (docs/operations.md).
    "ARCHIVE_DATA_OLD_KEYS": ("keyring", ""),
    "ARCHIVE_BLIND_INDEX_KEY": ("key", None),
    "DATABASE_URL": ("str", "sqlite:///var/archive.sqlite3"),
    # The engine runs its security plugin everywhere (docs/security.md): https only, the server
    # certificate checked against OPENSEARCH_CA_CERTS (empty: the system's trust store), and one
    # internal user per identity. A process gets only the passwords it needs; an empty password
    # means "this process has no such identity" (search_app/search/_backend.py refuses its use).
    # Comma-separated URLs name several nodes.
    "OPENSEARCH_URL": ("https_urls", "https://127.0.0.1:9200"),
    "OPENSEARCH_CA_CERTS": ("str", ""),
    "OPENSEARCH_WEB_USER": ("str", "archive_web"),          # search/get through the alias
    "OPENSEARCH_WEB_PASSWORD": ("str", ""),
    "OPENSEARCH_WORKER_USER": ("str", "archive_worker"),    # index/delete documents, refresh
    "OPENSEARCH_WORKER_PASSWORD": ("str", ""),
    "OPENSEARCH_ADMIN_USER": ("str", "archive_admin"),      # operations CLI: indices, alias, snapshots
    "OPENSEARCH_ADMIN_PASSWORD": ("str", ""),
    "OPENSEARCH_INDEX": ("str", "archive-pages"),
    # "auto": one replica whenever the cluster has a second data node, none on a single node
    # (index.auto_expand_replicas, mappings/*.json); a number fixes the count by hand.
    "OPENSEARCH_REPLICAS": ("replicas", "auto"),
    # Per engine request (seconds) and how many times a timed-out or refused request is tried
    # again: a hung engine costs a reader at most OPENSEARCH_TIMEOUT x (OPENSEARCH_RETRIES + 1),
    # which start-up checks is well inside WEB_TIMEOUT_S, the web worker's own limit (gunicorn
    # --timeout, read by gunicorn.conf.py), so the reader gets the JSON 503 and its audit record
    # instead of the worker being killed mid-request.
    "OPENSEARCH_TIMEOUT": ("int", 10),
    "OPENSEARCH_RETRIES": ("int", 1),
    "WEB_TIMEOUT_S": ("int", 60),
    # Redis requires a password: redis://:<password>@host:port/db (scripts/services.sh generates it)
    "REDIS_URL": ("redis_url", "redis://127.0.0.1:6379/0"),
    "BLOB_DIR": ("str", "var/blobs"),
    # per-file data keys, wrapped by ARCHIVE_DATA_KEY (search_app/keystore.py): never under
    # BLOB_DIR and never in a backup, so destroying a file's key shreds its backed-up copies too
    "KEY_STORE_DIR": ("str", "var/keys"),
    "OCR_LANGS": ("str", "chi_sim+chi_tra"),
    "OCR_DPI": ("int", 300),
    "OCR_TIMEOUT_S": ("int", 120),
    "OCR_PREPROCESS": ("steps", "grayscale,crop,deskew,scale,denoise,binarise"),
    "MAX_UPLOAD_MB": ("int", 200),
    "MAX_IMAGE_PIXELS": ("int", 80_000_000),
    # Long edge of the page image that is stored and served (A4 at 300 dpi): larger views are
    # scaled down at ingest, and serving refuses a stored image above it rather than decode it.
    "VIEW_MAX_EDGE_PX": ("int", 2480),
    "SEARCH_PAGE_SIZE": ("int", 20),
    # A page search runs its OCR-slip clauses (one character misread) in a second query only when
    # the exact matches leave the requested page short or number fewer than this (so a short
    # result list always counts its slip-only pages too); 0: only when the page is short.
    "SEARCH_SLIP_BELOW": ("int", 50),
    "SESSION_COOKIE_SECURE": ("bool", False),
    "SESSION_MINUTES": ("int", 30),
    "CELERY_ALWAYS_EAGER": ("bool", False),
    # Purpose categories (查询事由类别) offered on a grant request, comma separated.
    "GRANT_MAX_HOURS": ("int", 24 * 30),
    "PENDING_REQUEST_HOURS": ("int", 72),  # an unanswered request lapses after this
    # Login throttling (no lock-out, search_app/accounts/throttle.py): after LOGIN_MAX_FAILURES
    # failures on a typed name (or that name at one address), or LOGIN_ADDR_MAX_FAILURES from one
    # address, each further attempt waits 2, 4, 8 ... seconds, at most LOGIN_MAX_DELAY_S. A key
    # forgets its failures after LOGIN_FAILURE_WINDOW_MINUTES without one; the name-wide delay
    # skips addresses the account signed in from within LOGIN_TRUSTED_DAYS.
    "LOGIN_MAX_FAILURES": ("int", 5),
    "LOGIN_ADDR_MAX_FAILURES": ("int", 20),
    "LOGIN_MAX_DELAY_S": ("int", 900),
    "LOGIN_FAILURE_WINDOW_MINUTES": ("int", 60),
    "LOGIN_TRUSTED_DAYS": ("int", 30),
    # API bearer tokens expire after this many days (and end with logout everywhere / resets).
    "API_TOKEN_DAYS": ("int", 30),
    "EXPORT_MAX_ROWS": ("int", 500),
    # Audit anomaly flags (auditor UI): bursts, off-hours reads, PII look-ups, repeated denials.
    "AUDIT_BURST_READS": ("int", 30),
    "AUDIT_BURST_MINUTES": ("int", 5),
    "AUDIT_WORK_HOURS": ("hours", "08-19"),  # local hours [start, end) in AUDIT_TIMEZONE
    "AUDIT_TIMEZONE": ("timezone", "Asia/Shanghai"),
    # Where times are shown to people (stored times are UTC): every page and message.
    "DISPLAY_TIMEZONE": ("timezone", "Asia/Shanghai"),
    "AUDIT_LOOKUPS_PER_DAY": ("int", 20),
    # Exact look-ups of distinct values per grant per day (AUDIT_TIMEZONE): above this a look-up
    # is refused, audited and flagged; repeating a value already looked up today is not counted.
    "LOOKUP_MAX_DISTINCT_PER_DAY": ("int", 20),
    # The auditor's 按值查找 hashes any typed value: at most this many distinct values per auditor
    # and day (AUDIT_TIMEZONE); above it the match is refused, audited and flagged.
    "AUDIT_MATCH_MAX_PER_DAY": ("int", 30),
    "AUDIT_DENIALS": ("int", 5),
    "AUDIT_DENIALS_MINUTES": ("int", 10),
    "AUDIT_VERIFY_MINUTES": ("int", 15),  # Celery beat runs the chain check this often
    # Checkpoints of the chain head (seq, hash, time, keyed MAC) that beat writes outside the
    # database, so a truncated log (with its head reset) is caught: an append-only file (each
    # line MACed and chained to the previous one) and an OpenSearch index written create-only.
    # Put the file where the database's writers cannot write (another volume, `chattr +a`).
    "AUDIT_CHECKPOINT_FILE": ("str", "var/audit-checkpoints.log"),
    "AUDIT_CHECKPOINT_INDEX": ("str", ""),  # default: <OPENSEARCH_INDEX>-audit-checkpoints
    "AUDIT_CHECKPOINT_MINUTES": ("int", 5),
    # `flask demo` creates accounts with published passwords: it refuses unless this is true
    # (scripts/dev.sh sets it; docker-compose.yml does not).
    "DEMO_MODE": ("bool", False),
    # Redis broker: a task taken by a worker that dies (acks_late, nothing acknowledged) is handed
    # out again after this many seconds. Must exceed the longest task (one page: OCR_TIMEOUT_S
    # plus indexing), or a slow page still running is started a second time.
    "CELERY_VISIBILITY_TIMEOUT_S": ("int", 3600),
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none). The audit
    # log's client address is only right when this matches the deployment. Forwarding headers
    # are only read from a peer listed in TRUSTED_PROXIES (IP addresses or CIDR networks, comma
    # separated); from anyone else they are ignored, however PROXY_HOPS is set.
    "PROXY_HOPS": ("int", 0),
    "TRUSTED_PROXIES": ("networks", ""),
    # A page task claimed this many times without finishing (its worker died each time, e.g. a
    # scan that exhausts memory) fails with the reason instead of being processed again.
    "MAX_PAGE_ATTEMPTS": ("int", 3),
    # Page images are fetched through a signed URL minted by the page view; it expires after this.
    "IMAGE_URL_SECONDS": ("int", 120),
    # Reading sessions (search_app/reading): a session ends after READING_IDLE_MINUTES without a
    # read, after READING_MAX_HOURS, or when its grant expires, whichever is first. Result pages
    # and page views are cached (encrypted, in Redis) for READING_CACHE_SECONDS, so Back and
    # paging do not read again. EXPORT_PAGES_PER_GRANT caps the PDF pages exported per grant.
    "READING_IDLE_MINUTES": ("int", 30),
    "READING_MAX_HOURS": ("int", 8),
    "READING_CACHE_SECONDS": ("int", 900),
    "EXPORT_PAGES_PER_GRANT": ("int", 200),
    # Where the ingest UI stores uploaded manifests and scans (the worker reads them from there).
    "INGEST_UPLOAD_DIR": ("str", "var/uploads"),
    # An upload batch nobody started or came back to (encrypted scans of a failed check) is
    # removed after this many hours, on the next visit to the ingest pages.
    "INGEST_BATCH_TTL_HOURS": ("int", 24),
    # Operability (search_app/ops.py): JSON logs with a request id, rotated when LOG_FILE is set.
    "LOG_LEVEL": ("str", "INFO"),
    "LOG_FILE": ("str", ""),
    "LOG_MAX_MB": ("int", 50),
    "LOG_BACKUPS": ("int", 10),
    # Addresses allowed to read /metrics (Prometheus scrapers), comma separated.
    "METRICS_ALLOW": ("list", "127.0.0.1,::1"),
    # Backups (search_app/backup): the engine writes its snapshot into BACKUP_SNAPSHOT_DIR, which
    # must be a directory in the engine's path.repo as this process sees it (scripts/opensearch.sh
    # writes it into var/local.env). Beat backs up into BACKUP_DIR every BACKUP_INTERVAL_HOURS
    # (0: no scheduled backups) and keeps the newest BACKUP_KEEP sets.
    "BACKUP_SNAPSHOT_DIR": ("str", ""),
    "BACKUP_DIR": ("str", "var/backups"),
    "BACKUP_INTERVAL_HOURS": ("int", 0),
    "BACKUP_KEEP": ("int", 7),
    # OCR pages whose mean word confidence (0-100) is below this are listed for review.
    "OCR_REVIEW_THRESHOLD": ("int", 70),
    # Page processes on one machine: the Celery worker's concurrency and the size of the
    # `flask ingest` (synchronous) process pool. "auto": the CPUs this process may run on.
    "WORKER_CONCURRENCY": ("processes", "auto"),
    # Beat sends the tasks of ingest files held while Redis was down (search_app/ingest/held.py)
    # this often; workers at start and the ingest pages on each visit do so too.
    "INGEST_HELD_RETRY_S": ("int", 60),
    # Pages one page task (or one pool batch) processes in turn and indexes with one bulk request.
    "INGEST_BATCH_PAGES": ("int", 8),
    # Threads per Tesseract process (OMP_THREAD_LIMIT, set at start-up by init_process):
    # parallelism comes from pages; DESIGN.md measured 13.4 s vs 2.1 s for one 300-dpi page.
    "OCR_THREADS": ("int", 1),
}
def _check_engine(out: dict[str, Any]) -> None:
    ca = out.get("OPENSEARCH_CA_CERTS")
    if ca and not os.path.isfile(ca):
        raise ConfigError(f"OPENSEARCH_CA_CERTS: no file at {ca}")


def _check_keys(out: dict[str, Any]) -> None:
    """An old key may not reuse the current id with different bytes: which key wrote a
    ciphertext would become ambiguous and half the data would fail authentication."""
    old = out.get("ARCHIVE_DATA_OLD_KEYS") or {}
    current = out.get("ARCHIVE_DATA_KEY_ID")
    if current in old and old[current] != out.get("ARCHIVE_DATA_KEY"):
        raise ConfigError(f"ARCHIVE_DATA_OLD_KEYS lists the current key id {current!r} with a "
                          "different key; give the new key a new ARCHIVE_DATA_KEY_ID")


def load_settings(env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Typed settings from `env` (default: os.environ), then `overrides` (tests) on top."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    out: dict[str, Any] = {}
    missing = []
    for name, (kind, default) in _SPEC.items():
        if name in overrides:
            value = overrides.pop(name)
            # Tests pass settings as they would appear in the environment or already typed.
            parse = kind != "str" and isinstance(value, str)
            out[name] = _parse(kind, name, value) if parse else value
        elif name in env and env[name] != "":
            out[name] = _parse(kind, name, env[name])
        elif default is None:
            missing.append(name)
        else:
            out[name] = _parse(kind, name, default) if isinstance(default, str) and kind != "str" else default
    if missing:
        raise ConfigError("missing required settings: " + ", ".join(missing)
                          + " (scripts/dev.sh writes them to var/local.env)")
    out.update(overrides)
    _check_keys(out)
    _check_engine(out)
    for name in ("MAX_PAGE_ATTEMPTS", "IMAGE_URL_SECONDS", "INGEST_BATCH_PAGES", "OCR_THREADS",
                 "WORKER_CONCURRENCY"):
        if not isinstance(out[name], int) or out[name] < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, got {out[name]!r}")
    if not out["AUDIT_CHECKPOINT_INDEX"]:
        out["AUDIT_CHECKPOINT_INDEX"] = f"{out['OPENSEARCH_INDEX']}-audit-checkpoints"
    _check_login(out)
    _check_timeouts(out)
    return out


def _check_timeouts(out: dict[str, Any]) -> None:
    """A read must be answered (503 and its audit record) before the web worker is killed."""
    timeout, retries, web = (int(out["OPENSEARCH_TIMEOUT"]), int(out["OPENSEARCH_RETRIES"]),
                             int(out["WEB_TIMEOUT_S"]))
    if timeout < 1 or retries < 0:
        raise ConfigError("OPENSEARCH_TIMEOUT must be at least 1 and OPENSEARCH_RETRIES at least 0")
    worst = timeout * (retries + 1)
    if worst + 5 > web:  # 5 s for the audit write and the answer itself
        raise ConfigError(f"OPENSEARCH_TIMEOUT x (OPENSEARCH_RETRIES + 1) = {worst} s must stay at "
                          f"least 5 s under WEB_TIMEOUT_S ({web} s), or a hung engine gets the web "
                          "worker killed before the reader is told (and before the audit record)")
    for name in ("BACKUP_INTERVAL_HOURS", "BACKUP_KEEP"):
        if int(out[name]) < 0:
            raise ConfigError(f"{name} must not be negative, got {out[name]}")


def web_timeout(env: Mapping[str, str] | None = None) -> int:
    """WEB_TIMEOUT_S alone, for gunicorn.conf.py (which runs before the app and its secrets)."""
    raw = (os.environ if env is None else env).get("WEB_TIMEOUT_S", "") or str(_SPEC["WEB_TIMEOUT_S"][1])
    return _parse("int", "WEB_TIMEOUT_S", raw)


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """NAME=VALUE lines of a file like var/local.env (what the scripts write); {} if absent.
    For the test fixtures, which run under a bare `pytest` that did not source the file."""
    out: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                name, sep, value = line.strip().partition("=")
                if sep and name and not name.startswith("#"):
                    out[name.strip()] = value.strip()
    except FileNotFoundError:
        pass
    return out


def _check_login(out: dict[str, Any]) -> None:
    for name in ("LOGIN_MAX_FAILURES", "LOGIN_ADDR_MAX_FAILURES", "LOGIN_MAX_DELAY_S",
                 "API_TOKEN_DAYS", "LOGIN_TRUSTED_DAYS"):
        if int(out[name]) < 1:
            raise ConfigError(f"{name} must be at least 1, got {out[name]}")
    if int(out["LOGIN_FAILURE_WINDOW_MINUTES"]) * 60 <= int(out["LOGIN_MAX_DELAY_S"]):
        raise ConfigError("LOGIN_FAILURE_WINDOW_MINUTES must be longer than LOGIN_MAX_DELAY_S, "
                          "or failures would be forgotten while an attempt still waits")


def init_process(settings: Mapping[str, Any]) -> None:
    """Process-wide set-up that stages must not do themselves (web, worker and CLI all start
    through create_app): Tesseract's thread count, inherited by every tesseract child process
    that pytesseract starts."""
    os.environ["OMP_THREAD_LIMIT"] = str(settings["OCR_THREADS"])


def setting_names() -> list[str]:
    """Every environment variable the app reads (docker-compose.yml is checked against it)."""
    return list(_SPEC)
