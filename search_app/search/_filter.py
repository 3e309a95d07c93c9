"""The permission filter: one pure function from a grant and its holder to a query clause.

The backend wraps every user query in it as a required (`filter`) clause, so scoring, highlights
and facet counts only ever see documents the grant covers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class GrantScope(Protocol):
    categories: Sequence[str]
    units: Sequence[str]
    classification_ceiling: int
    archive_nos: Sequence[str]
    subject_hmac: str | None


@dataclass(frozen=True)
class ReaderIdentity:
    """Blind-index terms of the reader (ID number in canonical 18-digit form, and the (name,
    birth date) "person" term) and of their relatives' ID numbers (DESIGN rule 5). Documents
    carry the same kinds of terms in subject_hmac (the manifest subject) and pii_hmac (people a
    page names), so one must_not over both fields excludes every form."""

    hmacs: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormerNames:
    """Catalogue renames: old name → current name, per list (门类, 单位). Pages indexed under a
    门类's or unit's old name stay within a grant that names the new one (never wider: only the
    names that entry itself had)."""

    categories: dict[str, str] | None = None
    units: dict[str, str] | None = None

    def widen(self, names: Sequence[str], which: str) -> list[str]:
        former = getattr(self, which) or {}
        current = {former.get(n, n) for n in names}  # a grant made before the rename, too
        return sorted({*names, *current, *(old for old, new in former.items() if new in current)})


def permission_filter(grant: GrantScope, reader: ReaderIdentity,
                      former: FormerNames = FormerNames()) -> dict[str, Any]:
    required: list[dict[str, Any]] = [
        {"terms": {"category": former.widen(grant.categories, "categories")}},
        {"terms": {"unit": former.widen(grant.units, "units")}},
        {"range": {"classification_level": {"lte": int(grant.classification_ceiling)}}},
    ]
    if grant.archive_nos:
        required.append({"terms": {"archive_no": sorted(grant.archive_nos)}})
    file_ids = getattr(grant, "ingest_file_ids", None)
    if file_ids is not None:  # a QA scope: only the pages its batches' files wrote
        required.append({"terms": {"ingest_file_id": sorted(file_ids)}})
    if grant.subject_hmac:  # a grant about one named person covers only that person's files
        required.append({"term": {"subject_hmac": grant.subject_hmac}})
    clause: dict[str, Any] = {"filter": required}
    if reader.hmacs:  # files about the reader or a relative, and pages carrying their ID numbers
        clause["must_not"] = [{"terms": {"subject_hmac": sorted(reader.hmacs)}},
                              {"terms": {"pii_hmac": sorted(reader.hmacs)}}]
    return {"bool": clause}
