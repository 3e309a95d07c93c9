from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.config import CATEGORIES, CLASSIFICATION_LEVELS
from search_app.grants.models import Grant
from search_app.permissions import Permission, has_permission
from search_app.timeutil import utcnow


class GrantError(ValueError):
    pass


class GrantDenied(PermissionError):
    """No usable grant for this read; `reason` is shown to the user and written to the audit log."""

    def __init__(self, reason: str, grant: Grant | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.grant = grant


@dataclass(frozen=True)
class Scope:
    categories: list[str]
    units: list[str]
    classification: str
    archive_nos: list[str]


def new_approval_ref(now: datetime) -> str:
    return f"SP-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def create_grant(session: Session, *, user: User, approver: User, purpose: str, scope: Scope,
                 hours: float, unmask_fields: list[str] | None = None,
                 valid_from: datetime | None = None) -> Grant:
    """An approved grant (the approval workflow proper arrives with the approver inbox)."""
    if approver.id == user.id:
        raise GrantError("授权不能由申请人本人批准")
    if not has_permission(approver.role, Permission.GRANT_APPROVE):
        raise GrantError(f"{approver.username} 不是审批人，不能批准授权")
    if not has_permission(user.role, Permission.ARCHIVE_SEARCH):
        raise GrantError(f"{user.username} 的角色不能查询档案，不能持有查询授权")
    if not purpose.strip():
        raise GrantError("必须填写查询事由")
    bad = [c for c in scope.categories if c not in CATEGORIES]
    if not scope.categories or bad:
        raise GrantError(f"档案门类必须从 {'、'.join(CATEGORIES)} 中选择" + (f"，无效：{bad}" if bad else ""))
    if not scope.units:
        raise GrantError("必须指定至少一个单位")
    if scope.classification not in CLASSIFICATION_LEVELS:
        raise GrantError(f"密级上限必须是 {'、'.join(CLASSIFICATION_LEVELS)} 之一")
    if not 0 < hours <= 24 * 90:
        raise GrantError("授权时长必须在 0 到 90 天之间")
    start = valid_from or utcnow()
    grant = Grant(user_id=user.id, approved_by_id=approver.id, purpose=purpose.strip(),
                  approval_ref=new_approval_ref(start), categories=list(scope.categories),
                  units=list(scope.units),
                  classification_ceiling=CLASSIFICATION_LEVELS[scope.classification],
                  archive_nos=list(scope.archive_nos), unmask_fields=list(unmask_fields or []),
                  valid_from=start, valid_until=start + timedelta(hours=hours), status="active")
    session.add(grant)
    session.flush()
    return grant


def grants_of(session: Session, user: User) -> list[Grant]:
    """All of the user's grants, newest first; expired and revoked ones stay in the history."""
    return list(session.execute(select(Grant).where(Grant.user_id == user.id)
                                .order_by(Grant.valid_from.desc())).scalars())


def active_grants(session: Session, user: User, now: datetime | None = None) -> list[Grant]:
    now = now or utcnow()
    return [g for g in grants_of(session, user) if g.inactive_reason(now) is None]


def resolve_grant(session: Session, user: User, grant_id: int | None,
                  now: datetime | None = None) -> Grant:
    """The grant a read runs under, checked now (expiry is enforced here, not only by a task)."""
    if grant_id is None:
        raise GrantDenied("未选择查询授权：每次查询必须在一项有效授权下进行")
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise GrantDenied(f"授权 #{grant_id} 不存在或不属于您")
    reason = grant.inactive_reason(now or utcnow())
    if reason:
        raise GrantDenied(reason, grant)
    return grant


def revoke(session: Session, grant: Grant) -> None:
    grant.status = "revoked"
    grant.revoked_at = utcnow()
    session.flush()
