"""档号 corrections. A 档号, once ingested, never changes (DA/T 13-2022: unique and stable): a
file catalogued under a wrong 档号 is ingested again under a new one with 原档号 naming the old,
and this link (audited) says which replaced which. The old 档号 and its pages stay as they are."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.catalogue.models import ArchiveNoCorrection


def link(session: Session, actor: Actor, *, old_no: str, new_no: str,
         exists: Callable[[str], bool]) -> str | None:
    """Record that `new_no` corrects `old_no`, or return why it cannot (the row is refused)."""
    known = session.execute(select(ArchiveNoCorrection).where(
        ArchiveNoCorrection.new_no == new_no)).scalar_one_or_none()
    if known is not None:  # the same correction ingested again: nothing new to link
        if known.old_no == old_no:
            return None
        return f"档号 {new_no} 已登记为 {known.old_no} 的更正，不能再更正 {old_no}"
    if not exists(old_no):
        return f"原档号 {old_no} 不存在（只能更正已导入的档号）"
    if exists(new_no):
        return f"新档号 {new_no} 已被使用：档号一经导入不再改变，更正须使用未用过的新档号"
    session.add(ArchiveNoCorrection(old_no=old_no, new_no=new_no, created_by=actor.username,
                                    reason="导入清单登记的档号更正"))
    session.flush()
    record_event(actor, Event(action=Action.ARCHIVE_NO_CORRECT, outcome="allowed",
                              reason=f"档号 {old_no} 更正为 {new_no}（原档号保留）",
                              filters={"old_no": old_no, "new_no": new_no}), session=session)
    return None


def links_of(session: Session, archive_no: str) -> dict[str, list[str]]:
    """{"corrects": [old], "corrected_by": [new…]} for one 档号 (shown beside the file)."""
    rows = session.execute(select(ArchiveNoCorrection).where(
        (ArchiveNoCorrection.new_no == archive_no) | (ArchiveNoCorrection.old_no == archive_no))
    ).scalars()
    out: dict[str, list[str]] = {"corrects": [], "corrected_by": []}
    for r in rows:
        if r.new_no == archive_no:
            out["corrects"].append(r.old_no)
        else:
            out["corrected_by"].append(r.new_no)
    return out
