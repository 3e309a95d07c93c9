"""What the catalogue checks of a manifest row at ingest, beyond the pure manifest stage: the
row's unit is registered (or refused when disabled), and a correction (原档号) names an ingested
档号 and a new one (a 档号 never changes once ingested: the corrected file gets a new 档号 and a
link to the old, audited with the job)."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from indexer.manifest import ManifestRow
from search_app.audit.service import Actor
from search_app.catalogue import corrections
from search_app.catalogue.services import register_unit


def ingest_refusal(session: Session, actor: Actor, row: ManifestRow, *,
                   exists: Callable[[str], bool]) -> str:
    """"" when the row may go ahead, else the refusal with its line number."""
    if row.meta is None:  # a row that failed parsing already carries its error
        return ""
    refusal = register_unit(session, actor, row.meta.unit)
    if refusal:
        return f"第 {row.line} 行{refusal}"
    if row.meta.corrects:
        refusal = corrections.link(session, actor, old_no=row.meta.corrects,
                                   new_no=row.meta.archive_no, exists=exists)
        if refusal:
            return f"第 {row.line} 行{refusal}"
    return ""
