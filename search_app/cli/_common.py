"""What every operator command shares: the operator as the audit log names them, and one audit
record per CLI change."""
from __future__ import annotations

import os
import pwd

from search_app.audit.service import Actor, Event, record_event


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
