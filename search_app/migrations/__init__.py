"""Alembic migrations, driven from code (`flask db-upgrade`), so no alembic.ini is needed."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    from search_app.db import make_engine

    if url.startswith("sqlite:///"):
        make_engine(url).dispose()  # creates the parent directory of the SQLite file
    command.upgrade(alembic_config(url), revision)
