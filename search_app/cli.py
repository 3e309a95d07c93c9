"""Operator commands: `flask --app search_app <command>` (see docs/operations.md).

The CLI obeys the rules of the UI: every change is audited under the operator's OS account
("cli:<os user>"), ID numbers are validated as in the admin form, staff and approver accounts
made here wait for a security admin's confirmation (accounts.dual_control), and there is no
command that approves a grant: an approval is only ever the approver's own signed-in action.
"""
from __future__ import annotations

import base64
import os
import pwd
import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from search_app.accounts.models import User
from search_app.accounts.services import AccountError, create_user, issue_api_token
from search_app.audit.service import Actor, Event, record_event, verify_chain
from search_app.db import get_session
from search_app.permissions import Role, parse_roles
from search_app.audit.actions import Action


def init_app(app: Flask) -> None:
    for command in (db_upgrade, gen_keys, rotate_keys, create_user_cmd, issue_token,
                    ensure_index_cmd, ingest_cmd, reocr_cmd, audit_verify, audit_checkpoint,
                    demo_cmd, backup_cmd, restore_cmd, reindex_cmd):
        app.cli.add_command(command)


def cli_principal() -> str:
    """The operator as the audit log names them: the OS account running the command (from the
    process's uid, not from $USER, which the caller sets)."""
    uid = os.geteuid()
    try:
        return f"cli:{pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"cli:uid{uid}"


def _audit(action: str, *, session=None, outcome: str = "allowed", reason: str = "",
           **filters) -> None:
    """One audit record for a CLI change; with `session`, it commits with the change."""
    record_event(Actor(None, cli_principal(), "cli"),
                 Event(action=action, outcome=outcome, reason=reason, filters=filters),
                 session=session)


def _user(username: str) -> User:
    user = get_session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"用户 {username} 不存在")
    return user


@click.command("db-upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to DATABASE_URL."""
    from search_app.migrations import upgrade

    upgrade(current_app.config["DATABASE_URL"], settings=current_app.config)
    click.echo("database is at the latest migration")


def _new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _next_key_id(current: str, taken: set[str]) -> str:
    """k1 -> k2 (or the next free number); an id without a number gets one appended."""
    stem, digits = current.rstrip("0123456789"), current[len(current.rstrip("0123456789")):]
    n = int(digits) + 1 if digits else 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


@click.command("gen-keys")
@click.option("--rotate-data-key", is_flag=True,
              help="Print a new ARCHIVE_DATA_KEY_ID/ARCHIVE_DATA_KEY and the ARCHIVE_DATA_OLD_KEYS "
                   "line that keeps the current key for decryption (then run rotate-keys).")
def gen_keys(rotate_data_key: bool) -> None:
    """Print fresh key lines for an env file (32 random bytes each, url-safe base64)."""
    if not rotate_data_key:
        for name in ("SECRET_KEY", "ARCHIVE_DATA_KEY", "ARCHIVE_BLIND_INDEX_KEY"):
            click.echo(f"{name}={_new_key()}")
        return
    cfg = current_app.config
    old = dict(cfg["ARCHIVE_DATA_OLD_KEYS"])
    old[cfg["ARCHIVE_DATA_KEY_ID"]] = cfg["ARCHIVE_DATA_KEY"]
    new_id = _next_key_id(cfg["ARCHIVE_DATA_KEY_ID"], set(old))
    ring = ",".join(f"{kid}:{base64.urlsafe_b64encode(key).decode().rstrip('=')}"
                    for kid, key in old.items())
    click.echo("# replace these three lines in the env file of web, worker and beat, restart them,")
    click.echo("# then run `flask rotate-keys`; drop old keys from the list once it reports 0 left")
    click.echo(f"ARCHIVE_DATA_KEY_ID={new_id}")
    click.echo(f"ARCHIVE_DATA_KEY={_new_key()}")
    click.echo(f"ARCHIVE_DATA_OLD_KEYS={ring}")


@click.command("rotate-keys")
@click.option("--batch", type=click.IntRange(1, 10_000), default=200, show_default=True,
              help="Rows (or blob files) per commit / progress line.")
def rotate_keys(batch: int) -> None:
    """Re-encrypt every page text, manifest row and blob not under ARCHIVE_DATA_KEY_ID.

    Resumable and idempotent: run it again after an interruption; a second run re-encrypts 0.
    """
    from search_app.crypto import vault_from_config
    from search_app.rotation import MissingKeysError, rotate_all

    vault = vault_from_config(current_app.config)
    click.echo(f"current key {vault.current_key_id!r}; keys configured: "
               + ", ".join(sorted(vault.key_ids)))
    try:
        reports = rotate_all(get_session(), vault, Path(current_app.config["BLOB_DIR"]),
                             batch=batch, echo=click.echo)
    except MissingKeysError as exc:
        raise click.ClickException(str(exc)) from None
    _audit(Action.CLI_ROTATE_KEYS, key_id=vault.current_key_id,
           rotated={r.kind: r.rotated for r in reports},
           failed={r.kind: len(r.failed) for r in reports})
    for r in reports:
        click.echo(f"{r.kind}: {r.rotated} re-encrypted, {r.current} already under "
                   f"{vault.current_key_id!r}, {len(r.failed)} failed")
    failed = sum(len(r.failed) for r in reports)
    if failed:
        click.echo(f"{failed} ciphertexts failed authentication (tampered, or written for another "
                   "record) and were left unchanged; see the ✗ lines above", err=True)
        sys.exit(1)


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--display-name", default="")
@click.option("--unit", default="")
@click.option("--id-number", default="", help="The user's own ID number; only its keyed hash is stored.")
def create_user_cmd(username, role, password, display_name, unit, id_number) -> None:
    """Create an account. Administrators and auditors take effect at once (bootstrap); staff and
    approver accounts stay disabled until a security admin confirms them in /admin/pending."""
    from search_app.accounts.dual_control import propose_create
    from search_app.admin.views import _own_identity

    session = get_session()
    try:
        own, person = _own_identity(id_number, display_name or username)
        user = create_user(session, username=username, password=password, role=role,
                           display_name=display_name, unit=unit, id_number_hmac=own)
        user.person_hmac = person  # the (name, birth date) term, as the admin form stores it
        user.created_by = cli_principal()
        pending = None
        if set(parse_roles(user.role)) & {Role.STAFF, Role.APPROVER}:
            pending = propose_create(session, user, proposer=cli_principal())
        _audit(Action.USER_CREATE, session=session, target=user.username,
               changes=[f"角色 {user.role}", f"单位 {user.unit}",
                        f"本人身份 {'已登记' if own else '未登记'}"],
               reason=f"待安全管理员确认后生效（变更 #{pending.id}）" if pending else "",
               **({"pending_changes": [pending.id]} if pending else {}))
        session.commit()
    except AccountError as exc:
        session.rollback()
        _audit(Action.USER_CREATE, outcome="denied", reason=str(exc), target=username.strip())
        raise click.ClickException(str(exc)) from None
    if pending:
        click.echo(f"proposed user {user.username} (id {user.id}, role {user.role}): disabled until "
                   f"a security admin confirms change #{pending.id} at /admin/pending")
    else:
        click.echo(f"created user {user.username} (id {user.id}, role {user.role})")


@click.command("issue-token")
@click.argument("username")
def issue_token(username) -> None:
    """Issue a new API bearer token (replaces the old one); printed once."""
    session = get_session()
    user = _user(username)
    token = issue_api_token(session, user)
    _audit(Action.USER_ISSUE_TOKEN, session=session, target=user.username,
           changes=["签发新的 API 令牌（旧令牌作废）"])
    session.commit()
    click.echo(token)


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
@click.option("--chunk", type=int, default=500, show_default=True, help="Documents per bulk request.")
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
        client = make_client(current_app.config, "admin", http_compress=False)
        total = client.count(index=current_index(client, alias()))["count"]
    except (EngineIdentityError, IndexMissingError, RuntimeError) as exc:
        _audit(Action.CLI_REINDEX, outcome="denied", reason=str(exc)[:500], alias=alias())
        raise click.ClickException(str(exc)) from None
    workers = workers or os.cpu_count() or 1
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


@click.command("audit-verify")
def audit_verify() -> None:
    """Recompute the audit hash chain and check it against the checkpoints kept outside the
    database; exit 1 if any record was edited, deleted, reordered or cut off the end."""
    started = time.monotonic()
    report = verify_chain(get_session())
    for problem in report.problems:
        click.echo(f"BROKEN: {problem}", err=True)
    click.echo(f"{report.records} records checked against {report.checkpoints} checkpoints in "
               f"{time.monotonic() - started:.2f}s: "
               + ("chain intact" if report.ok else "CHAIN BROKEN"))
    sys.exit(0 if report.ok else 1)


@click.command("audit-checkpoint")
def audit_checkpoint() -> None:
    """Anchor the chain head now (what beat does every AUDIT_CHECKPOINT_MINUTES)."""
    from search_app.audit.checkpoints import CheckpointError, write_checkpoint

    try:
        cp = write_checkpoint(get_session())
    except CheckpointError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"checkpoint seq {cp.seq} at {cp.ts} written to "
               f"{current_app.config['AUDIT_CHECKPOINT_FILE']} and index "
               f"{current_app.config['AUDIT_CHECKPOINT_INDEX']}")


@click.command("demo")
@click.option("--queue/--sync", default=True)
def demo_cmd(queue: bool) -> None:
    """Demo users (published passwords), a demo grant and the bundled demo scans (safe to run
    twice). Refused unless DEMO_MODE=true: a real deployment must never hold those accounts."""
    from search_app.demo import DemoRefused, setup_demo

    try:
        setup_demo(queue=queue, echo=click.echo)
    except DemoRefused as exc:
        _audit(Action.CLI_DEMO, outcome="denied", reason=str(exc))
        raise click.ClickException(str(exc)) from None
    _audit(Action.CLI_DEMO, queue=queue)


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
