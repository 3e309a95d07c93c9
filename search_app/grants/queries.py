"""Reading grants: a holder's history and usable grants, an approver's inbox and decisions, and
the one check every read runs (`resolve_grant`: expiry is enforced on each read, not only by the
periodic task)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.grants.models import PENDING, Grant
from search_app.grants.scope import GrantDenied
from search_app.timeutil import utcnow


def inbox(session: Session, approver: User) -> list[Grant]:
    """Requests this approver may decide: never their own, never one they already approved."""
    rows = session.execute(
        select(Grant).where(Grant.status.in_(PENDING), Grant.user_id != approver.id,
                            or_(Grant.approved_by_id.is_(None), Grant.approved_by_id != approver.id))
        .order_by(Grant.created_at)).scalars().all()
    return list(rows)


def decided_by_me(session: Session, approver: User, limit: int = 50) -> list[Grant]:
    return list(session.execute(
        select(Grant).where(or_(Grant.approved_by_id == approver.id,
                                Grant.second_approved_by_id == approver.id,
                                Grant.decided_by_id == approver.id))
        .order_by(Grant.created_at.desc()).limit(limit)).scalars())


def grants_of(session: Session, user: User) -> list[Grant]:
    """All of the user's grants and requests, newest first; history stays visible."""
    return list(session.execute(select(Grant).where(Grant.user_id == user.id)
                                .order_by(Grant.created_at.desc(), Grant.id.desc())).scalars())


def active_grants(session: Session, user: User, now: datetime | None = None) -> list[Grant]:
    now = now or utcnow()
    return [g for g in grants_of(session, user) if g.inactive_reason(now) is None]


def resolve_grant(session: Session, user: User, grant_id: int | None,
                  now: datetime | None = None) -> Grant:
    """The grant a read runs under, checked now (expiry is enforced here, not only by a task)."""
    if grant_id is None:
        raise GrantDenied("未选择查询授权：每次查询必须在一项有效授权下进行")
    # one statement, read from the database even when the session already holds the grant
    # (populate_existing): a revocation committed by another request takes effect now. It was
    # session.get + session.refresh, two round trips of every read.
    grant = session.execute(select(Grant).where(Grant.id == grant_id)
                            .execution_options(populate_existing=True)).scalar_one_or_none()
    if grant is None or grant.user_id != user.id:
        raise GrantDenied(f"授权 #{grant_id} 不存在或不属于您")
    reason = grant.inactive_reason(now or utcnow())
    if reason:
        raise GrantDenied(reason, grant)
    return grant
