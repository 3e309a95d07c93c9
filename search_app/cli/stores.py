"""The stores' structure: `db-upgrade` (the Alembic schema), `ensure-index` and `reindex` (the
versioned index behind the alias)."""
from __future__ import annotations

import os

import click
from flask import current_app

from search_app.audit.actions import Action
from search_app.cli._common import _audit


@click.command("db-upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from search_app.migrations import upgrade

    upgrade(current_app.config["DATABASE_URL"], settings=current_app.config)
    click.echo("database is at the latest migration")


@click.command("ensure-index")
def ensure_index_cmd() -> None:
    from search_app.search._backend import EngineIdentityError, admin, alias, ensure_index

    try:
        name = ensure_index(admin(), alias(), replicas=current_app.config["OPENSEARCH_REPLICAS"])
    except EngineIdentityError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(Action.CLI_ENSURE_INDEX, alias=alias(), index=name)
    click.echo(f"alias {alias()} -> {name}")


@click.command("reindex")
@click.option("--workers", type=int, default=0, help="Parallel bulk workers (default: CPU count).")
@click.option("--chunk", type=int, default=500, show_default=True,
              help="Documents per bulk request (and at most 10 MB).")
@click.option("--restart", is_flag=True, help="Drop a half-built index left by a killed run "
                                              "instead of resuming it.")
@click.option("--keep-old", is_flag=True, help="Keep the previous index after the swap.")
@click.option("--reprepare", is_flag=True, help="Run the text stages (PII detection, redaction, "
              "folding, jieba) again on every page from the vault, on every core.")
def reindex_cmd(workers: int, chunk: int, restart: bool, keep_old: bool, reprepare: bool) -> None:
    """Rebuild the index behind the alias from its stored documents with the current mapping,
    then swap the alias (the old index serves until then; on any error the new one is deleted)."""
    from search_app.search._backend import (EngineIdentityError, IndexMissingError, admin, alias,
                                            make_client)
    from search_app.search.reindex import current_index, reindex

    try:
        admin()  # refuses before any work when this process has no admin credentials
        workers = workers or os.cpu_count() or 1
        # one connection per bulk worker, the reader and the checkpoints
        client = make_client(current_app.config, "admin", http_compress=False,
                             pool_maxsize=workers + 2)
        total = client.count(index=current_index(client, alias()))["count"]
    except (EngineIdentityError, IndexMissingError, RuntimeError) as exc:
        _audit(Action.CLI_REINDEX, outcome="denied", reason=str(exc)[:500], alias=alias())
        raise click.ClickException(str(exc)) from None
    click.echo(f"reindex {alias()}: {total} documents, {workers} bulk workers")
    try:
        with click.progressbar(length=total, label="重建索引") as bar:
            report = reindex(client, alias(), replicas=current_app.config["OPENSEARCH_REPLICAS"],
                             workers=workers, chunk=chunk, restart=restart,
                             drop_old=not keep_old, progress=bar.update,
                             reprepare=(os.cpu_count() or 1) if reprepare else 0)
    except Exception as exc:
        _audit(Action.CLI_REINDEX, outcome="error", reason=f"{type(exc).__name__}: {exc}"[:500],
               alias=alias())
        raise click.ClickException(f"重建失败，原索引继续服务，新索引已删除：{exc}") from None
    _audit(Action.CLI_REINDEX, alias=alias(), old_index=report.old_index, new_index=report.new_index,
           documents=report.documents, resumed_from=report.resumed_from,
           docs_per_second=round(report.docs_per_second),
           pages_per_second=round(report.pages_per_second), reprepare=reprepare,
           **({"reprepared_pages": report.reprepared.pages, "copied": report.reprepared.copied,
               "new_spans": report.reprepared.new_spans} if report.reprepared else {}))
    if report.reprepared:
        r = report.reprepared
        click.echo(f"text stages run again on {r.pages - r.copied} pages in "
                   f"{os.cpu_count() or 1} processes ({r.copied} without stored text, copied); "
                   f"{r.new_spans} pages with PII the stored spans missed: their images need "
                   "`flask reocr`")
    click.echo(f"alias {alias()} -> {report.new_index} (was {report.old_index}): "
               f"{report.documents} documents, {report.pages_per_second:.0f} pages/s "
               f"({report.docs_per_second:.0f} documents/s) loading"
               + (f", resumed at {report.resumed_from}" if report.resumed_from else "")
               + f", {report.caught_up} caught up, {report.total_seconds:.1f} s in all")
