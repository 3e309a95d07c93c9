"""Fixtures: a real app over real services (OpenSearch, Redis, Tesseract), isolated per session.

Each test session gets its own SQLite file, blob dir, index alias and Redis database, so it
never touches the demo data. Services are started by scripts/test.sh; if one is unreachable the
integration tests fail (they never skip).
"""
from __future__ import annotations

import base64
import itertools
import os
import random
import re
import string
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
import redis
from flask import g, request_started

from search_app import create_app
from search_app.accounts.models import User
from search_app.accounts.services import create_user
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.grants.services import Scope, create_grant
from search_app.migrations import upgrade
from search_app.config import init_process, load_settings, read_env_file, setting_names
from search_app.search._backend import drop_alias_and_indices, ensure_index, make_client
from tests.scratch_db import pg_database, scratch_database

PASSWORD = "correct-horse-9"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
# Connection settings for the secured engine and Redis: what scripts/services.sh wrote into
# var/local.env, overridden by the environment (CI, another engine).
_LOCAL = {**read_env_file(ROOT / "var" / "local.env"),
          **{k: v for k, v in os.environ.items() if k in setting_names()}}
ENGINE = {k: _LOCAL[k] for k in setting_names() if k in _LOCAL and (
    k in ("OPENSEARCH_URL", "OPENSEARCH_CA_CERTS") or re.fullmatch(r"OPENSEARCH_\w+_(USER|PASSWORD)", k))}
OPENSEARCH_URL = ENGINE.get("OPENSEARCH_URL", "https://127.0.0.1:9200")
# Tests use their own Redis database (never the dev worker's db 0); TEST_REDIS_DB lets two
# checkouts run their suites side by side without their workers taking each other's tasks.
REDIS_URL = re.sub(r"/\d*$", "", _LOCAL.get("REDIS_URL", "redis://127.0.0.1:6379/0")) \
    + f"/{int(os.environ.get('TEST_REDIS_DB', '15'))}"


def pytest_configure(config) -> None:
    """The app's process start-up (search_app.config.init_process) for tests that call the OCR
    stage without an app: Tesseract single-threaded, as in web, worker and CLI."""
    init_process({"OCR_THREADS": 1})


# TEST_DATABASE=postgresql runs the suite on the PostgreSQL that scripts/services.sh starts
# (DATABASE_URL_PG in var/local.env): each session creates its own database and drops it after.
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite").strip().lower()
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"TEST_DATABASE must be sqlite or postgresql, not {TEST_DATABASE!r}")


def _pg_admin_url() -> str:
    url = _LOCAL.get("DATABASE_URL_PG", "")
    if not url:
        pytest.fail("TEST_DATABASE=postgresql but DATABASE_URL_PG is not in var/local.env; run "
                    "`bash scripts/services.sh backends` (it starts PostgreSQL and writes it)")
    return url


def fresh_database(folder: Path) -> AbstractContextManager[str]:
    """A new, empty database of the session's kind (TEST_DATABASE): a SQLite file in `folder`,
    or a PostgreSQL database of its own, dropped afterwards. For tests that need a second app."""
    return scratch_database(TEST_DATABASE, folder, _pg_admin_url)


def fresh_pg_database() -> AbstractContextManager[str]:
    """A PostgreSQL database of its own (dropped afterwards), whichever database the session
    runs on."""
    return pg_database(_pg_admin_url())


@contextmanager
def own_deployment(settings: dict, folder: Path, **extra) -> Iterator:
    """An app with a deployment of its own in `folder` (database of the session's kind, alias,
    checkpoint index, blobs, uploads, checkpoint file; `extra` settings on top), migrated and
    with its index; its indices and checkpoint index are removed after."""
    with fresh_database(folder) as url:
        own = {**settings, "DATABASE_URL": url,
               "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
               "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
               "BLOB_DIR": str(folder / "blobs"), "INGEST_UPLOAD_DIR": str(folder / "up"),
               "AUDIT_CHECKPOINT_FILE": str(folder / "cp.log"), **extra}
        app = create_app(own)
        upgrade(url)
        admin = make_client(app.config, "admin")
        ensure_index(admin, own["OPENSEARCH_INDEX"])
        try:
            yield app
        finally:
            for name in admin.indices.get(index=f"{own['OPENSEARCH_INDEX']}*",
                                          ignore_unavailable=True, allow_no_indices=True):
                admin.indices.delete(index=name, ignore_unavailable=True)
            admin.indices.delete(index=own["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
            app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The session's own database: a SQLite file, or a fresh PostgreSQL database."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
        yield url


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


@pytest.fixture(scope="session")
def settings(tmp_path_factory, database_url) -> dict:
    tmp = tmp_path_factory.mktemp("app")
    return {
        "SECRET_KEY": _key(), "ARCHIVE_DATA_KEY": _key(), "ARCHIVE_BLIND_INDEX_KEY": _key(),
        "DATABASE_URL": database_url,
        **ENGINE,
        # `test-pages-<8 hex>`: the engine's roles match exactly this form as an alias
        # (scripts/engine_security.py), so the web user reads it and not its versioned indices
        "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
        # `test-audit-cp-<8 hex>`: the tests' form of `<alias>-audit-checkpoints` in the roles
        "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": REDIS_URL,
        # the engine's path.repo (scripts/opensearch.sh writes it): backups snapshot into it
        "BACKUP_SNAPSHOT_DIR": _LOCAL.get("BACKUP_SNAPSHOT_DIR", ""),
        "BLOB_DIR": str(tmp / "blobs"),
        "KEY_STORE_DIR": str(tmp / "keys"),
        "INGEST_UPLOAD_DIR": str(tmp / "uploads"),
        "AUDIT_CHECKPOINT_FILE": str(tmp / "audit-checkpoints.log"),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
    }


@pytest.fixture(scope="session")
def services(settings) -> None:
    """Fail loudly (not skip) when a real service is missing."""
    try:
        make_client(load_settings(env={}, overrides=settings), "admin").cluster.health(wait_for_status="yellow", request_timeout=15)
    except Exception as exc:
        pytest.fail(f"OpenSearch is not reachable as {settings.get('OPENSEARCH_ADMIN_USER')} at "
                    f"{OPENSEARCH_URL} ({exc}); run the suite with `bash scripts/test.sh`, which "
                    "starts it and writes its credentials into var/local.env")
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as exc:
        pytest.fail(f"Redis is not reachable with its password ({exc}); run `bash scripts/test.sh`")


_SESSION_APP: list = []


@pytest.fixture(autouse=True)
def _session_celery_stays_current():
    """A test that builds a second app (another config) makes that app's Celery the current
    one; put the session app's back afterwards, or later tests queue their tasks to the wrong
    app and their jobs stay 'queued'."""
    yield
    if _SESSION_APP:
        celery = _SESSION_APP[0].extensions["celery"]
        celery.set_current()
        celery.set_default()


@pytest.fixture(autouse=True)
def _tesseract_needs_the_integration_marker(request, monkeypatch):
    """A test that runs Tesseract must carry @pytest.mark.integration (the project's marker for
    "needs Tesseract, OpenSearch or Redis"), so that `-m "not integration"` really runs without
    them: an unmarked test that reaches Tesseract fails, naming itself."""
    if request.node.get_closest_marker("integration"):
        return
    import pytesseract.pytesseract as engine

    def refuse(*_args, **_kwargs):
        raise AssertionError(f"{request.node.nodeid} runs Tesseract but is not marked "
                             "@pytest.mark.integration")
    monkeypatch.setattr(engine, "run_tesseract", refuse)
    from indexer import tesseract_api  # Tesseract in process (indexer/ocr.py's usual path)

    monkeypatch.setattr(tesseract_api, "recognise_tsv", refuse)


@pytest.fixture(scope="session")
def app(settings, services):
    app = create_app(settings)
    _SESSION_APP.append(app)
    upgrade(settings["DATABASE_URL"])
    admin = make_client(app.config, "admin")  # index administration: the admin identity only
    ensure_index(admin, settings["OPENSEARCH_INDEX"])
    request_started.connect(_forget_login_user, app)
    yield app
    drop_alias_and_indices(admin, settings["OPENSEARCH_INDEX"])
    admin.indices.delete(index=app.config["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)


def _forget_login_user(_sender, **_extra) -> None:
    """flask-login caches the signed-in user in `g`, and a test request made while `ctx` is
    pushed shares that app context's `g`: without this, the first client to log in would be
    every later client's user too (an anonymous client got the last login's 403 instead of a
    redirect to /login). A real request has its own app context, so start each one clean."""
    g.pop("_login_user", None)


@pytest.fixture()
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture()
def client(app):
    return app.test_client()


_seq = itertools.count(1)


@pytest.fixture()
def make_user(ctx) -> Callable[..., User]:
    def make(role: str = "staff", *, unit: str = "北京市公安局海淀分局", id_number: str = "",
             username: str | None = None) -> User:
        from search_app.crypto import vault_from_config
        session = get_session()
        hmac = vault_from_config(ctx.config).blind_index("id_number", id_number) if id_number else None
        # letters after the counter: a random hex tail like "-0625" made a 7-digit run that the
        # audit log's fail-safe rightly masks wherever the name appears in free text
        tail = "".join(random.choice(string.ascii_lowercase) for _ in range(5))
        user = create_user(session, username=username or f"{role}{next(_seq)}-{tail}",
                           password=PASSWORD, role=role, unit=unit, id_number_hmac=hmac)
        session.commit()
        return user
    return make


@pytest.fixture()
def make_grant(ctx, make_user) -> Callable[..., Grant]:
    approvers: list[User] = []

    def make(user: User, *, categories=("户籍档案",), units=("北京市公安局海淀分局",),
             classification: str = "内部", archive_nos=(), hours: float = 8.0,
             purpose: str = "户籍核查", unmask_fields=(), allow_lookup: bool = False,
             subject_id: str = "") -> Grant:
        session = get_session()
        if not approvers:
            approvers.extend([make_user("approver"), make_user("approver")])
        grant = create_grant(session, user=user, approver=approvers[0],
                             second_approver=approvers[1], purpose=purpose, hours=hours,
                             scope=Scope(list(categories), list(units), classification,
                                         list(archive_nos)),
                             unmask_fields=list(unmask_fields), allow_lookup=allow_lookup,
                             subject_id=subject_id)
        session.commit()
        return grant
    return make


@pytest.fixture()
def admin(app, ctx, make_user):
    """A signed-in security admin: (user, test client)."""
    user = make_user("security_admin")
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return user, client


def audit_records(action: str, **where):
    """The audit records of `action` (fresh from the database), oldest first, narrowed by
    column values (username=…, outcome=…)."""
    from sqlalchemy import select

    from search_app.audit.models import AuditRecord

    session = get_session()
    session.expire_all()
    stmt = select(AuditRecord).where(AuditRecord.action == action)
    for k, v in where.items():
        stmt = stmt.where(getattr(AuditRecord, k) == v)
    return list(session.execute(stmt.order_by(AuditRecord.seq)).scalars())


def signed_in(client) -> bool:
    """A page only a signed-in user reaches; a redirect to /login means the session is gone."""
    resp = client.get("/grants/")
    if resp.status_code == 302 and "/login" in resp.location:
        return False
    assert resp.status_code == 200, f"/grants/ answered {resp.status_code}"
    return True


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def signed_in_client(app, user):
    """A test client of its own, signed in as `user` (the login must succeed)."""
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return client


def bearer_client(app, user):
    """A test client of its own that sends `user`'s new API token on every request."""
    from search_app.accounts.services import issue_api_token

    token = issue_api_token(get_session(), user)
    get_session().commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


def reloaded_user(user_id: int) -> User:
    """The user as the database holds it now (what another request committed included)."""
    session = get_session()
    session.expire_all()
    return session.get(User, user_id)


def image_url(client, doc_id: str, grant_id: int, purpose: str = "核实") -> str:
    """The signed page-image URL that the page view minted for this client's user."""
    import html
    import re
    from urllib.parse import quote

    resp = client.post(f"/pages/{quote(doc_id)}", data={"grant_id": grant_id, "purpose": purpose})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    found = re.search(r'id="page-image"[^>]*src="([^"]+)"', resp.get_data(as_text=True))
    assert found, "the page view shows no image"
    return html.unescape(found.group(1))


def ingest_specs(folder: Path, specs: list[dict], *, extra_files: dict[str, bytes] | None = None,
                 manifest: str = "manifest.json", created_by: str = "test", queue: bool = False,
                 confirm_metadata_change: bool = False, timeout: float = 300, poll: float = 0.3):
    """Render demo-style specs (see demo/corpus.json) into files in `folder`, write their manifest
    and ingest it through the real path (synchronously unless `queue`), in the caller's app
    context: (progress, job id)."""
    import json

    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    rows = []
    for spec in specs:
        if spec.get("format"):
            render_file(spec, folder)
        rows.append({k: v for k, v in spec.items()
                     if k not in ("format", "pages", "traditional", "noise")})
    for name, data in (extra_files or {}).items():
        (folder / name).write_bytes(data)
    (folder / manifest).write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    job = start_job(folder / manifest, base_dir=folder, created_by=created_by, queue=queue,
                    confirm_metadata_change=confirm_metadata_change)
    return wait_for_job(job.id, echo=lambda _line: None, timeout=timeout, poll=poll), job.id


@pytest.fixture()
def scratch_alias(ctx, monkeypatch):
    """An empty alias of the test's own (OPENSEARCH_INDEX points at it; the session index is
    untouched): (admin client, name). Dropped afterwards, with any half-built index a reindex
    left."""
    from search_app.search.reindex import unfinished

    client = make_client(ctx.config, "admin")
    name = f"test-pages-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(ctx.config, "OPENSEARCH_INDEX", name)
    ensure_index(client, name)
    yield client, name
    drop_alias_and_indices(client, name)
    for left in unfinished(client, name):
        client.indices.delete(index=left, ignore_unavailable=True)


@pytest.fixture()
def ingest(ctx, tmp_path):
    """ingest_specs into a fresh folder of the test's own."""
    def run(specs: list[dict], *, extra_files: dict[str, bytes] | None = None, queue: bool = False,
            confirm_metadata_change: bool = False):
        folder = tmp_path / f"batch{next(_seq)}"
        folder.mkdir()
        return ingest_specs(folder, specs, extra_files=extra_files, queue=queue,
                            confirm_metadata_change=confirm_metadata_change)
    return run


@pytest.fixture(scope="session")
def catalogued(app, tmp_path_factory) -> str:
    """One small file per 门类 in each unit the form tests request (北京市公安局海淀分局,
    市委组织部), so that grant requests, which may only name units and 档号 that exist
    (grants.catalogue_check), can name them. Returns the first unit."""
    unit = "北京市公安局海淀分局"
    folder = tmp_path_factory.mktemp("catalogued")
    specs = [meta(f"CAT-{j}{i:03d}", category=c, unit=u, pages=[[f"目录样本 {c} 第一页文本层内容足够长"]])
             for j, u in enumerate((unit, "市委组织部"), 1)
             for i, c in enumerate(("户籍档案", "干部人事档案", "电子卷宗"), 1)]
    with app.app_context():
        progress, _ = ingest_specs(folder, specs)
        assert progress.files_failed == 0, progress.errors
    return unit


def meta(archive_no: str, *, category: str = "户籍档案", unit: str = "北京市公安局海淀分局",
         classification: str = "内部", year: int = 2020, fmt: str = "pdf_text",
         pages: list[list[str]] | None = None, **extra) -> dict:
    return {"archive_no": archive_no, "title": f"测试档案{archive_no}", "category": category,
            "unit": unit, "year": year, "classification": classification,
            "file": f"{archive_no}.{ {'pdf_text': 'pdf', 'pdf_image': 'pdf', 'png': 'png', 'tiff': 'tif', 'jpeg': 'jpg'}[fmt] }",
            "format": fmt, "pages": pages or [["档案检索测试页面 第一行内容足够长以使用文本层"]], **extra}


def dump_index(app, *, files: bool = False) -> list[dict]:
    """Every page document of the test index, as stored (the 'index dump' attacker's view);
    with files=True the file-level documents of the grouped search too."""
    from opensearchpy import helpers

    client = make_client(app.config, "admin")
    client.indices.refresh(index=app.config["OPENSEARCH_INDEX"])
    docs = [h["_source"] for h in helpers.scan(client, index=app.config["OPENSEARCH_INDEX"],
                                               query={"query": {"match_all": {}}})]
    return docs if files else [d for d in docs if "doc_kind" not in d]


@pytest.fixture()
def eager(app, monkeypatch):
    """Queued tasks run at once, in this process, under this session's app."""
    celery = app.extensions["celery"]
    celery.set_default()  # another create_app() in the session may have replaced it
    celery.set_current()  # ... and made its own Celery the current one (delay() uses that)
    monkeypatch.setitem(celery.conf, "task_always_eager", True)
    return celery
