"""The audit chain: `audit-verify` and `audit-checkpoint`."""
from __future__ import annotations

import sys
import time

import click
from flask import current_app

from search_app.audit.service import verify_chain
from search_app.db import get_session


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
