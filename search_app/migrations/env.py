from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from search_app.accounts import models as _accounts  # noqa: F401 - registers tables
from search_app.audit import models as _audit  # noqa: F401
from search_app.db import Base
from search_app.grants import models as _grants  # noqa: F401
from search_app.ingest import models as _ingest  # noqa: F401
from search_app.qa import models as _qa  # noqa: F401
from search_app.reading import models as _reading  # noqa: F401
from search_app.catalogue import models as _catalogue  # noqa: F401

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}),
                                     prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
