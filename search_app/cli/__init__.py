"""Operator commands: `flask --app search_app <command>` (see docs/operations.md).

The CLI obeys the rules of the UI: every change is audited under the operator's OS account
("cli:<os user>"), ID numbers are validated as in the admin form, staff and approver accounts
made here wait for a security admin's confirmation (accounts.dual_control), and there is no
command that approves a grant: an approval is only ever the approver's own signed-in action.

One module per command group: accounts (keys and users), stores (database schema, index,
reindex), ingest (ingest, re-OCR), audit, backup (backup, restore), demo.
"""
from __future__ import annotations

from flask import Flask

from search_app.cli._common import cli_principal
from search_app.cli.accounts import create_user_cmd, gen_keys, issue_token, rotate_keys
from search_app.cli.audit import audit_checkpoint, audit_verify
from search_app.cli.backup import backup_cmd, restore_cmd
from search_app.cli.demo import demo_cmd
from search_app.cli.ingest import ingest_cmd, reocr_cmd
from search_app.cli.stores import db_upgrade, ensure_index_cmd, reindex_cmd

__all__ = ["init_app", "cli_principal"]


def init_app(app: Flask) -> None:
    for command in (db_upgrade, gen_keys, rotate_keys, create_user_cmd, issue_token,
                    ensure_index_cmd, ingest_cmd, reocr_cmd, audit_verify, audit_checkpoint,
                    demo_cmd, backup_cmd, restore_cmd, reindex_cmd):
        app.cli.add_command(command)
