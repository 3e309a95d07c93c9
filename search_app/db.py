"""SQLAlchemy engine and session, bound to the app once (STYLE: one init_app per extension)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets the web app read while a worker writes; busy_timeout turns lock contention into a
    # wait instead of an error (the audit chain takes a write lock per record).
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL, said explicitly (it is the build's default): every commit syncs the WAL, so an
    # audit record acknowledged to a reader survives a power loss (NORMAL would not: DESIGN 6).
    cur.execute("PRAGMA synchronous=FULL")
    # 30 s, not 10: at load 20+ on two cores an ingest page's commit waited out 10 s behind the
    # audit writer and the page failed with "database is locked" (the image and PII benches,
    # 2026-12-01); a background page waiting longer loses nothing, failing loses the page.
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def get_session() -> Session:
    """The request's (or task's) session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


@contextmanager
def fresh_session() -> Iterator[Session]:
    """A session of its own, for writes that must commit independently of the caller (audit)."""
    session = current_app.extensions["db_sessionmaker"]()
    try:
        yield session
    finally:
        session.close()


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
