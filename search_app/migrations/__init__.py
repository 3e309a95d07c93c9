"""Alembic migrations, driven from code (`flask db-upgrade`), so no alembic.ini is needed."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", *, settings: Mapping[str, Any] | None = None) -> None:
    """`settings` (the app config) is what data migrations need beyond the schema: 0007
    re-encrypts with the data keys and reads BLOB_DIR. Without it a data migration that finds
    rows to convert refuses and says so; on an empty database none is needed."""
    from search_app.db import make_engine

    if url.startswith("sqlite:///"):
        make_engine(url).dispose()  # creates the parent directory of the SQLite file
    cfg = alembic_config(url)
    cfg.attributes["settings"] = settings
    command.upgrade(cfg, revision)
