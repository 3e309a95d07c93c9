"""How long a typed value may be, checked before anything is written.

SQLite does not enforce VARCHAR lengths (a 20,015-character user name was stored in a 64-char
column) and PostgreSQL would fail the whole transaction instead, so every length is checked in
the service that accepts the value, with a refusal that names the limit. A value stored as
authoritative (a user name, a unit, a grant's purpose, a decision reason) is never shortened
silently; only the audit record of a refusal keeps a shortened copy (`clip`), marked as such.
"""
from __future__ import annotations

USERNAME = 64        # users.username, audit_records.username
DISPLAY_NAME = 64    # users.display_name (String(128); a person's name needs far less)
UNIT = 128           # users.unit
PURPOSE = 500        # a read's 查询事由 and a grant request's purpose
QUERY = 300          # what a read records as its query (search words, a doc id, a look-up)
REASON = 500         # a deny / revoke reason


def too_long(label: str, value: str | None, limit: int) -> str | None:
    """The refusal reason when `value` exceeds `limit` characters, else None."""
    n = len(value or "")
    return f"{label}过长：最多 {limit} 个字符，收到 {n} 个" if n > limit else None


def clip(value: str, limit: int) -> str:
    """At most `limit` characters; a shortened copy ends in "…" so nobody takes it as whole."""
    return value if len(value) <= limit else value[:max(limit - 1, 0)] + "…"
