"""`backup` and `restore` of one deployment (search_app.backup)."""
from __future__ import annotations

from pathlib import Path

import click

from search_app.audit.service import Actor
from search_app.cli._common import cli_principal


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_cmd(dest: Path) -> None:
    """Write one checksummed backup set into DEST (a new or empty directory): database, blobs,
    index snapshot, checkpoint file, manifest. Keys are not in it (docs/operations.md)."""
    from search_app.backup import BackupError, run_backup

    try:
        report = run_backup(dest, actor=Actor(None, cli_principal(), "cli"))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    counts = report.manifest["counts"]
    click.echo(f"backup written to {report.path}: " + ", ".join(f"{k} {v}" for k, v in counts.items())
               + f"; audit head seq {report.manifest['audit']['head']['seq']}")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database, blob store and index that are not empty.")
def restore_cmd(src: Path, force: bool) -> None:
    """Check every file and the audit chain of the backup in SRC, then restore it."""
    from search_app.backup import BackupError, run_restore

    try:
        report = run_restore(src, force=force, actor=Actor(None, cli_principal(), "cli"))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {src}: {report.documents} index documents, audit chain intact at seq "
               f"{report.manifest['audit']['head']['seq']}"
               + (f"; the replaced checkpoint file is kept at {report.replaced_checkpoints}"
                  if report.replaced_checkpoints else "")
               + (f"; destroyed again (key store tombstones): {', '.join(report.reapplied)}"
                  if report.reapplied else ""))
