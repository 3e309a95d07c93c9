"""The relational store into and out of a backup: SQLite through its online backup API (a
consistent copy while the app keeps writing), PostgreSQL through pg_dump / pg_restore.

The password of a PostgreSQL URL goes to the client tools in PGPASSWORD, never on their command
line (the process list is readable by every local user)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from search_app.backup._files import BackupError

SQLITE_FILE = "db/archive.sqlite3"
PG_FILE = "db/archive.pgdump"


def dialect(url: str) -> str:
    return make_url(url).get_backend_name()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份")
    return Path(database)


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or ""]
    # Only what the client needs (the password never on its command line); the program itself is
    # found on PATH by _run, so the child needs no copy of this process's environment.
    env = {"PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10", "LC_ALL": "C.UTF-8"}
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    program = shutil.which(cmd[0])
    if program is None:
        raise BackupError(f"{what}失败：找不到 {cmd[0]}（请安装 postgresql-client）")
    try:
        done = subprocess.run([program, *cmd[1:]], env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{what}失败：找不到 {cmd[0]}（请安装 postgresql-client）") from None
    if done.returncode != 0:
        raise BackupError(f"{what}失败（{cmd[0]} 退出码 {done.returncode}）：{done.stderr.strip()[-400:]}")


def dump(url: str, dest: Path) -> str:
    """Write the database into the backup directory `dest`; returns the file's relative path."""
    if dialect(url) == "sqlite":
        target = dest / SQLITE_FILE
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        src = sqlite3.connect(_sqlite_path(url), timeout=30)
        try:
            out = sqlite3.connect(target)
            try:
                src.backup(out)  # page by page under SQLite's own locking: a consistent copy
            finally:
                out.close()
        finally:
            src.close()
        os.chmod(target, 0o600)
        return SQLITE_FILE
    if dialect(url) == "postgresql":
        parsed = make_url(url)
        target = dest / PG_FILE
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        args, env = _pg_args(parsed)
        # one snapshot of the whole database (pg_dump runs in a single repeatable-read transaction)
        _run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", *args, "-f", str(target),
              parsed.database or ""], env, "数据库导出（pg_dump）")
        os.chmod(target, 0o600)
        return PG_FILE
    raise BackupError(f"不支持备份 {dialect(url)} 数据库（支持 SQLite 与 PostgreSQL）")


def staged_url(url: str, src: Path, rel: str, scratch: Path) -> str:
    """A URL the backup's database can be read at before it replaces anything: for SQLite a
    copy of the file (so a check never writes into the backup); PostgreSQL is read after
    restore (its dump is checked by checksum first)."""
    if dialect(url) != "sqlite":
        return ""
    copy = scratch / "staged.sqlite3"
    src_conn = sqlite3.connect(src / rel)
    try:
        out = sqlite3.connect(copy)
        try:
            src_conn.backup(out)
        finally:
            out.close()
    finally:
        src_conn.close()
    return f"sqlite:///{copy}"


def is_empty(url: str) -> bool:
    """No application table holds a row that a restore would overwrite (users, audit records,
    page texts, ingest files); a database that has never been migrated is empty too."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in ("users", "audit_records", "page_secrets", "ingest_files", "grants"):
                try:
                    if conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first():  # noqa: S608
                        return False
                except Exception:  # table absent: nothing of that kind to lose
                    conn.rollback()
        return True
    finally:
        engine.dispose()


def restore(url: str, src: Path, rel: str) -> None:
    """Replace the database at `url` with the backup's copy (the caller checked emptiness)."""
    if dialect(url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup_conn = sqlite3.connect(src / rel)
        try:
            live = sqlite3.connect(path, timeout=30)
            try:
                backup_conn.backup(live)  # in place: open connections see the restored pages
            finally:
                live.close()
        finally:
            backup_conn.close()
        return
    parsed = make_url(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()
    args, env = _pg_args(parsed)
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *args,
          "-d", parsed.database or "", str(src / rel)], env, "数据库恢复（pg_restore）")


def counts(session: Session) -> dict[str, int]:
    from search_app.accounts.models import User
    from search_app.audit.models import AuditRecord
    from search_app.grants.models import Grant
    from search_app.ingest.models import IngestFile, PageSecret

    return {name: int(session.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (("users", User), ("grants", Grant), ("audit_records", AuditRecord),
                                ("page_secrets", PageSecret), ("ingest_files", IngestFile))}


def audit_head(session: Session) -> dict[str, Any]:
    from search_app.audit.models import AuditHead

    head = session.get(AuditHead, 1)
    return {"seq": head.last_seq, "hash": head.last_hash} if head else {"seq": None, "hash": None}


def read_db(url: str, fn):
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return fn(session)
    finally:
        engine.dispose()


def revision(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()
