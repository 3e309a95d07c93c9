"""A QA reviewer's scope: the batches it may review, given and revoked by a security admin.

A scope plays the part a grant plays for staff: `resolve_scope` is what the choke point
(search._choke.guarded_read) resolves on every review read, so the review screen is filtered,
audited and redacted by the same path as a search. Its permission filter admits only the pages
the scope's batches wrote (their ingest files), up to its 密级 ceiling, never the reviewer's own
or relatives' files; its text is shown masked except the kinds the scope unmasks (none unless
the security admin says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.vocab import CATEGORIES, LEVEL_NAMES, PII_KINDS
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.grants.scope import GrantDenied
from search_app.ingest.models import IngestFile, IngestJob
from search_app.ingest.service import file_meta
from search_app.permissions import Role, parse_roles
from search_app.qa.models import QaScope
from search_app.timeutil import utcnow

MAX_SCOPE_DAYS = 90


class ScopeError(ValueError):
    """A scope cannot be given as asked; the message says why (in Chinese)."""


class ScopeRefused(ScopeError):
    """Separation of duties: a security admin giving a scope to themselves (the API's 403)."""


class ScopeMissing(ScopeError):
    """The scope named does not exist (the API's 404)."""


@dataclass
class ReviewScope:
    """A QaScope resolved for one read: what the permission filter and the audit record need
    (the attributes of a grant that guarded_read uses)."""

    id: int
    ref: str
    purpose: str
    job_ids: list[int]
    ingest_file_ids: list[int]
    units: list[str]
    classification_ceiling: int
    unmask_fields: list[str]
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    archive_nos: list[str] = field(default_factory=list)
    subject_hmac: str | None = None
    subject_label: str = ""


def _is_reviewer(user: User) -> bool:
    try:
        return Role.QA_REVIEWER in parse_roles(user.role)
    except ValueError:
        return False


def scope_files(session: Session, job_ids: list[int]) -> list[IngestFile]:
    """The files of these batches that wrote pages (a file refused before its pages has none)."""
    if not job_ids:
        return []
    return list(session.execute(select(IngestFile).where(IngestFile.job_id.in_(job_ids),
                                                         IngestFile.sha256 != "")
                                .order_by(IngestFile.id)).scalars())


def resolve_scope(session: Session, user: User, scope_id: int | None) -> ReviewScope:
    """The reviewer's scope, checked now; GrantDenied (the reason in Chinese) otherwise."""
    if scope_id is None:
        raise GrantDenied("未选择质检范围：数字化质检只能在安全管理员授予的质检范围内进行")
    row = session.get(QaScope, scope_id)
    if row is None or row.user_id != user.id:
        raise GrantDenied(f"质检范围 #{scope_id} 不存在或不属于您")
    session.refresh(row)  # a revocation committed by another request takes effect now
    reason = row.inactive_reason(utcnow())
    if reason:
        raise GrantDenied(reason, row)  # type: ignore[arg-type]  (named in the record by its ref)
    files = scope_files(session, list(row.job_ids))
    units = sorted({file_meta(f).get("unit", "") for f in files} - {""})
    return ReviewScope(id=row.id, ref=row.ref, purpose=row.purpose, job_ids=list(row.job_ids),
                       ingest_file_ids=[f.id for f in files], units=units,
                       classification_ceiling=row.classification_ceiling,
                       unmask_fields=list(row.unmask_fields or []))


def active_scopes(session: Session, user: User) -> list[QaScope]:
    now = utcnow()
    rows = session.execute(select(QaScope).where(QaScope.user_id == user.id)
                           .order_by(QaScope.id.desc())).scalars()
    return [r for r in rows if r.inactive_reason(now) is None]


def grant_scope(session: Session, actor: Actor, *, reviewer: User, job_ids: list[int],
                ceiling: int, purpose: str, days: int, unmask_fields: list[str] = ()) -> QaScope:
    """Give `reviewer` these batches to review; audited in `session` (the caller commits)."""
    if not _is_reviewer(reviewer):
        raise ScopeError(f"用户 {reviewer.username} 不是数字化质检人员，不能授予质检范围")
    if reviewer.id == actor.user_id:
        raise ScopeRefused("不能给自己授予质检范围")
    purpose = purpose.strip()
    if not purpose:
        raise ScopeError("必须填写质检任务（例如“2026 年第 3 批户籍档案数字化验收”）")
    if not job_ids:
        raise ScopeError("至少选择一个导入批次")
    known = set(session.execute(select(IngestJob.id).where(IngestJob.id.in_(job_ids))).scalars())
    missing = sorted(set(job_ids) - known)
    if missing:
        raise ScopeError(f"导入批次不存在：{'、'.join(f'#{j}' for j in missing)}")
    if ceiling not in LEVEL_NAMES:
        raise ScopeError("密级上限无效")
    unknown = sorted(set(unmask_fields) - set(PII_KINDS))
    if unknown:
        raise ScopeError(f"未知的敏感字段类型：{'、'.join(unknown)}")
    if not 1 <= days <= MAX_SCOPE_DAYS:
        raise ScopeError(f"有效期应为 1–{MAX_SCOPE_DAYS} 天")
    row = QaScope(user_id=reviewer.id, job_ids=sorted(set(job_ids)), classification_ceiling=ceiling,
                  unmask_fields=sorted(set(unmask_fields)), purpose=purpose,
                  granted_by=actor.username, expires_at=utcnow() + timedelta(days=days))
    session.add(row)
    session.flush()
    record_event(actor, Event(action=Action.QA_SCOPE_GRANT, outcome="allowed",
                              approval_ref=row.ref, purpose=purpose, filters={
                                  "reviewer": reviewer.username, "job_ids": row.job_ids,
                                  "classification_ceiling": LEVEL_NAMES[ceiling],
                                  "unmask_fields": row.unmask_fields, "days": days}),
                 session=session)
    return row


def revoke_scope(session: Session, actor: Actor, scope_id: int) -> QaScope:
    row = session.get(QaScope, scope_id)
    if row is None:
        raise ScopeMissing(f"质检范围 #{scope_id} 不存在")
    if row.revoked_at is not None:
        raise ScopeError(f"质检范围 {row.ref} 已撤销")
    row.revoked_at, row.revoked_by = utcnow(), actor.username
    record_event(actor, Event(action=Action.QA_SCOPE_REVOKE, outcome="allowed",
                              approval_ref=row.ref, filters={"job_ids": list(row.job_ids)}),
                 session=session)
    return row
