"""Re-ingesting an existing 档号 with a different unit, category, classification or subject.

Those fields decide who may read the pages (the permission filter) and whose file it is
(self-exclusion, subject grants), so a manifest row that changes them is not a routine update: a
typo in a re-sent manifest would silently open a 秘密 file to every 内部 grant, or hand one
person's file to another's name. Such a row is refused unless the operator confirms the change
explicitly (`flask ingest --confirm-metadata-change`, or the checkbox on the upload form); both
the refusal and the confirmed change are audited with before/after, the subject masked.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from indexer.redact import mask_value

# manifest field -> label; the fields that decide access and identity
GUARDED = {"unit": "单位", "category": "门类", "classification": "密级",
           "subject_name": "当事人", "subject_id": "当事人身份证号"}
_MASK_KIND = {"subject_name": "name", "subject_id": "id_number"}
CONFIRM_HINT = ("如确认修改，请在命令行加 --confirm-metadata-change，或在上传页勾选"
                "“确认修改著录信息”后重新导入")


def _shown(name: str, value: Any) -> str:
    text = "" if value is None else str(value)
    if not text:
        return "（空）"
    kind = _MASK_KIND.get(name)
    return mask_value(kind, "".join(text.split()).upper() if kind == "id_number" else text) \
        if kind else text


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[str]]:
    """field -> [before, after] for each guarded field that differs; subjects masked."""
    out: dict[str, list[str]] = {}
    for name in GUARDED:
        old, new = before.get(name) or "", after.get(name) or ""
        if name == "subject_id":
            old, new = "".join(str(old).split()).upper(), "".join(str(new).split()).upper()
        if old != new:
            out[name] = [_shown(name, old), _shown(name, new)]
    return out


def describe(changed: Mapping[str, list[str]]) -> str:
    """"单位（A → B）、密级（内部 → 秘密）" for the refusal and the job page."""
    return "、".join(f"{GUARDED[name]}（{old} → {new}）" for name, (old, new) in changed.items())


def refusal(archive_no: str, changed: Mapping[str, list[str]]) -> str:
    return (f"档号 {archive_no} 已导入过，本次清单更改了{describe(changed)}，未导入：这些字段决定"
            f"谁能查阅该档案。{CONFIRM_HINT}")


def with_defaults(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest row stored before ArchiveMeta grew a field (the 档号 parts, 0011) compares
    equal to the same row stored since: the missing fields take their defaults."""
    from dataclasses import MISSING, fields

    from indexer.types import ArchiveMeta

    defaults = {f.name: f.default for f in fields(ArchiveMeta) if f.default is not MISSING}
    out = {**defaults, **meta}
    out.pop("classification_level", None)  # derived from the 密级 by the catalogue at the time
    return out
