"""`flask catalogue-register-units`: register the units of files ingested before the catalogue
tables existed (migration 0011 cannot: the units sit in the encrypted manifest rows, and a
migration holds no data key). Each unit added is audited like one registered at ingest."""
from __future__ import annotations

import click
from flask import Flask

from search_app.audit.service import Actor
from search_app.catalogue.services import lists, register_unit
from search_app.db import get_session


@click.command("catalogue-register-units")
def register_units_cmd() -> None:
    from search_app.cli import cli_principal
    from search_app.search import catalogue  # the ingest records: each file's latest manifest row

    session = get_session()
    before = set(lists(session).units)
    actor = Actor(None, cli_principal(), "cli")
    for unit in catalogue(fresh=True).units:
        register_unit(session, actor, unit)
    session.commit()
    added = sorted(set(lists(session).units) - before)
    click.echo(f"已登记 {len(added)} 个单位" + (f"：{'、'.join(added)}" if added else ""))


def init_app(app: Flask) -> None:
    app.cli.add_command(register_units_cmd)
