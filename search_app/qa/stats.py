"""Acceptance statistics per batch (DA/T 31-2017 数字化成果验收): pages, decisions and findings."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from search_app.qa.models import QaFile, QaPage


@dataclass
class BatchStats:
    job_id: int
    files: int
    pages: int
    pending: int
    accepted: int
    corrected: int
    rescan: int
    blank: int
    rotated: int
    low_dpi: int
    count_mismatches: int

    @property
    def accepted_share(self) -> float:
        """Share of pages decided good (accepted or corrected): the batch's acceptance rate."""
        return (self.accepted + self.corrected) / self.pages if self.pages else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "accepted_share": round(self.accepted_share, 4)}


def batch_stats(session: Session, job_ids: Iterable[int]) -> list[BatchStats]:
    """One row per batch, newest first; pages counted from the QA rows (one per ingested page)."""
    ids = sorted(set(job_ids), reverse=True)
    if not ids:
        return []

    def n(cond):
        return func.sum(case((cond, 1), else_=0))

    pages = {r.job_id: r for r in session.execute(
        select(QaPage.job_id, func.count().label("pages"),
               n(QaPage.status == "pending").label("pending"),
               n(QaPage.status == "accepted").label("accepted"),
               n(QaPage.status == "corrected").label("corrected"),
               n(QaPage.status == "rescan").label("rescan"),
               n(QaPage.blank.is_(True)).label("blank"),
               n(QaPage.rotation != 0).label("rotated"),
               n(QaPage.low_dpi.is_(True)).label("low_dpi"))
        .where(QaPage.job_id.in_(ids)).group_by(QaPage.job_id))}
    files = {r.job_id: r for r in session.execute(
        select(QaFile.job_id, func.count().label("files"),
               n(QaFile.mismatch != "").label("mismatches"))
        .where(QaFile.job_id.in_(ids)).group_by(QaFile.job_id))}
    out = []
    for j in ids:
        p, f = pages.get(j), files.get(j)
        out.append(BatchStats(
            job_id=j, files=int(f.files) if f else 0, pages=int(p.pages) if p else 0,
            **{k: int(getattr(p, k) or 0) if p else 0
               for k in ("pending", "accepted", "corrected", "rescan", "blank", "rotated",
                         "low_dpi")},
            count_mismatches=int(f.mismatches or 0) if f else 0))
    return out
