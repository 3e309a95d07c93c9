"""Keys and accounts: `gen-keys`, `rotate-keys`, `create-user`, `issue-token`.

Accounts made here follow the admin form's rules: ID numbers are validated and kept only as
keyed hashes, and staff and approver accounts wait for a security admin's confirmation."""
from __future__ import annotations

import base64
import os
import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from search_app.accounts.models import User
from search_app.accounts.services import AccountError, create_user, issue_api_token
from search_app.audit.actions import Action
from search_app.cli._common import _audit, cli_principal
from search_app.db import get_session
from search_app.permissions import Role, parse_roles


def _user(username: str) -> User:
    user = get_session().execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"用户 {username} 不存在")
    return user


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
    from search_app.admin.identity import own_identity

    session = get_session()
    try:
        own, person = own_identity(id_number, display_name or username)
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
