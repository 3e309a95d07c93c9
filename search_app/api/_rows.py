"""ORM rows and dataclasses as JSON for the API: the named attributes, times as UTC ISO (`Z`).
One helper instead of a hand-written dict per route, so a model's fields and its schema
(search_app.api.schemas) are the only two places that name them."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any


def value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat(timespec="seconds") + "Z"
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return [value(x) for x in v]
    return v


def row_json(obj: Any, fields: Iterable[str], **extra: Any) -> dict[str, Any]:
    """{field: obj.field} for the fields named (times as ISO), plus `extra`."""
    return {**{f: value(getattr(obj, f)) for f in fields}, **extra}
