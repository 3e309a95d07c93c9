"""Scratch databases for tests and benches: a SQLite file in a folder, or a PostgreSQL database
of its own on the server that scripts/services.sh starts, dropped afterwards.

One factory for tests/conftest.py and bench/ (audit_bench, search_bench, api_profile), so a
test and the bench that measures the same path run on databases made the same way.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def pg_database(admin_url: str, prefix: str = "test") -> Iterator[str]:
    """A new PostgreSQL database next to `admin_url`'s, its URL yielded, dropped afterwards
    (WITH FORCE: the app's pooled connections go too)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(admin_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@contextmanager
def scratch_database(kind: str, folder: Path, admin_url: Callable[[], str],
                     prefix: str = "test") -> Iterator[str]:
    """A new, empty database of `kind` ("sqlite" or "postgresql"); `admin_url` is asked for the
    PostgreSQL server's URL only when one is needed."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/{prefix}-{uuid.uuid4().hex[:8]}.sqlite3"
        return
    with pg_database(admin_url(), prefix) as url:
        yield url
