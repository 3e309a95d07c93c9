"""What exists, for the system administrator's home page: how many pages and files the archive
holds, accounts by role, grants by state, and the latest ingest jobs. Counts and job states
only, from the database: no page text, no titles, no subjects (the system admin reads no
archives)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.grants.models import PENDING, Grant
from search_app.grants.services import STATUS_LABELS
from search_app.ingest.models import IngestFile, IngestJob, PageSecret
from search_app.permissions import parse_roles, role_labels


@dataclass(frozen=True)
class JobRow:
    job: IngestJob
    files: int
    done: int
    failed: int
    pages_done: int
    pages_total: int

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.files


@dataclass(frozen=True)
class Overview:
    pages: int
    files: int
    low_confidence_unreviewed: int
    users: int
    users_disabled: int
    users_by_role: list[tuple[str, int]]
    grants_active: int
    grants_pending: int
    grants_by_status: list[tuple[str, int]]
    jobs: list[JobRow]


def overview(session: Session, *, low_confidence: float, jobs: int = 5) -> Overview:
    pages = session.execute(select(func.count()).select_from(PageSecret)).scalar_one()
    files = session.execute(select(func.count(func.distinct(PageSecret.archive_no)))).scalar_one()
    unreviewed = session.execute(select(func.count()).select_from(PageSecret).where(
        PageSecret.ocr_confidence < low_confidence, PageSecret.reviewed_at.is_(None))).scalar_one()
    roles: dict[str, int] = {}
    disabled = total_users = 0
    for role, enabled in session.execute(select(User.role, User.is_enabled)):
        total_users += 1
        disabled += 0 if enabled else 1
        for r in parse_roles(role):
            roles[role_labels(r.value)] = roles.get(role_labels(r.value), 0) + 1
    by_status = dict(session.execute(select(Grant.status, func.count()).group_by(Grant.status)).all())
    stmt = (select(IngestJob, func.count(IngestFile.id),
                   func.coalesce(func.sum(case((IngestFile.state == "done", 1), else_=0)), 0),
                   func.coalesce(func.sum(case((IngestFile.state == "failed", 1), else_=0)), 0),
                   func.coalesce(func.sum(IngestFile.pages_done), 0),
                   func.coalesce(func.sum(IngestFile.pages_total), 0))
            .outerjoin(IngestFile, IngestFile.job_id == IngestJob.id)
            .group_by(IngestJob.id).order_by(IngestJob.id.desc()).limit(jobs))
    return Overview(
        pages=pages, files=files, low_confidence_unreviewed=unreviewed, users=total_users,
        users_disabled=disabled, users_by_role=sorted(roles.items()),
        grants_active=by_status.get("active", 0),
        grants_pending=sum(by_status.get(s, 0) for s in PENDING),
        grants_by_status=[(STATUS_LABELS.get(s, s), n) for s, n in sorted(by_status.items())],
        jobs=[JobRow(*row) for row in session.execute(stmt)])
