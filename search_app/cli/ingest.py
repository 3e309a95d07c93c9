"""Getting scans in: `ingest` (a manifest's files) and `reocr` (a stored original again)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app

from search_app.audit.actions import Action
from search_app.audit.service import Actor
from search_app.cli._common import _audit, cli_principal


@click.command("ingest")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--base-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where the manifest's file names are resolved (default: next to the manifest).")
@click.option("--queue/--sync", default=False, help="Send files to the Celery worker, or run here.")
@click.option("--by", "created_by", default="cli", show_default=True)
@click.option("--confirm-metadata-change", is_flag=True,
              help="Allow rows that change an existing 档号's unit, category, classification or "
                   "subject (audited with before/after); without it such rows fail.")
def ingest_cmd(manifest: Path, base_dir: Path | None, queue: bool, created_by: str,
               confirm_metadata_change: bool) -> None:
    """Ingest the files listed in MANIFEST (CSV or JSON); a bad file fails alone."""
    from indexer.manifest import ManifestError
    from search_app.ingest.jobs import start_job, wait_for_job
    from search_app.ops import QueueUnavailable
    from search_app.search._backend import EngineIdentityError, IndexMissingError

    if not queue:
        click.echo(f"pages run here in {current_app.config['WORKER_CONCURRENCY']} processes "
                   "(WORKER_CONCURRENCY)")
    try:
        job = start_job(manifest, base_dir=base_dir or manifest.parent, created_by=created_by,
                        queue=queue, confirm_metadata_change=confirm_metadata_change,
                        actor=Actor(None, cli_principal(), "cli"))
    except (ManifestError, IndexMissingError, EngineIdentityError, QueueUnavailable) as exc:
        _audit(Action.CLI_INGEST, outcome="denied", reason=str(exc)[:500], manifest=manifest.name)
        raise click.ClickException(str(exc)) from None
    _audit(Action.CLI_INGEST, manifest=manifest.name, job=job.id, queue=queue, by=created_by)
    progress = wait_for_job(job.id, echo=click.echo)
    for name, error in progress.errors:
        click.echo(f"  ✗ {name}: {error}", err=True)
    click.echo(f"job {job.id}: {progress.files_done} files done, {progress.files_failed} failed, "
               f"{progress.pages_done} pages indexed")
    if progress.files_done == 0 and progress.files_total:
        sys.exit(1)


@click.command("reocr")
@click.argument("archive_no")
@click.option("--page", "page_no", type=int, help="Only this page (default: every page).")
@click.option("--queue/--sync", default=False, help="Send to the Celery worker, or run here.")
def reocr_cmd(archive_no: str, page_no: int | None, queue: bool) -> None:
    """OCR ARCHIVE_NO again from its stored original; the old page text is kept as a version."""
    from indexer.types import IngestError
    from search_app.ingest.reocr import reocr

    _audit(Action.CLI_REOCR, archive_no=archive_no, page=page_no, queue=queue)
    if queue:
        from workers.tasks import reocr_page
        result = reocr_page.delay(archive_no, page_no)
        click.echo(f"queued re-OCR of {archive_no} (task {result.id})")
        return
    try:
        results = reocr(archive_no, page_no=page_no)
    except IngestError as exc:
        raise click.ClickException(str(exc)) from None
    for r in results:
        old = "—" if r.old_confidence is None else f"{r.old_confidence:.1f}"
        new = "—" if r.new_confidence is None else f"{r.new_confidence:.1f}"
        click.echo(f"{r.archive_no} p{r.page_no}: confidence {old} ({r.old_source or 'none'}) "
                   f"-> {new} (ocr) in {r.seconds:.1f}s; previous text kept as a version")
