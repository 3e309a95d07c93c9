"""Dual control (双人复核): no single security admin can bring about a read.

A security admin who could create a staff account and two approver accounts, or reset a real
staff member's password, would know every password involved: request as one, approve as the
others, read. So every account change that could lead to a read — creating, re-roling,
re-enabling or resetting the password of a staff, approver or security admin account — is only
*proposed* here, and takes effect when a second security admin confirms it. The proposer cannot
confirm their own proposal, nor can an account the proposer created or last reset (their puppet),
nor the account the change is about. A pending new account stays disabled (it cannot log in); a
pending reset leaves the old password in force.

The puppet rule (`puppet_conflict`) closes the remaining path: grants.services refuses an approval
by an account whose creator or last resetter also created or last reset the requester's account.

These functions change rows only; the caller (admin view, CLI) writes the audit record in the
same transaction, as for every other account change.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from search_app.accounts.models import PendingAccountChange, User
from search_app.accounts.services import (AccountConflict, AccountError, AccountRefused,
                                          end_all_sessions, hash_password, normalise_roles)
from search_app.permissions import Permission, Role, has_permission, parse_roles
from search_app.timeutil import utcnow

KIND_LABELS = {"create": "创建账号", "role": "变更角色", "enable": "重新启用账号",
               "reset_password": "重置密码"}
STATUS_LABELS = {"pending": "待确认", "confirmed": "已确认生效", "rejected": "已驳回"}
# Roles whose holders can read (staff), let others read (approver) or confirm the changes that
# make readers and approvers (security admin); a QA reviewer reads the pages of its batches;
# records office heads approve destructions, which cannot be undone, so one security admin
# alone must not be able to make two of them.
GUARDED_ROLES = frozenset({Role.STAFF, Role.APPROVER, Role.SECURITY_ADMIN, Role.QA_REVIEWER,
                           Role.RECORDS_HEAD})


def needs_second_admin(*roles: str) -> bool:
    """Whether a change to an account holding (or about to hold) any of `roles` needs a second
    security admin."""
    for value in roles:
        try:
            if set(parse_roles(value)) & GUARDED_ROLES:
                return True
        except ValueError:
            continue
    return False


def lineage(session: Session, user: User, *, limit: int = 1000) -> set[str]:
    """Everyone who made or last reset `user`'s account, and whoever made or reset *their*
    accounts, and so on: a security admin who made a second security admin controls what that
    one makes too."""
    seen: set[str] = set()
    frontier = set(user.principals)
    while frontier and len(seen) < limit:
        name = frontier.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("cli:"):
            continue
        account = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
        if account is not None:
            frontier |= account.principals - seen
    return seen


def puppet_conflict(session: Session, a: User, b: User) -> str | None:
    """Who made or reset both accounts (directly or through an account they made), or None:
    that one person could know both passwords."""
    shared = sorted(lineage(session, a) & lineage(session, b))
    return "、".join(shared) if shared else None


def puppet_refusal(session: Session, requester: User, approver: User) -> str | None:
    """Why `approver` may not approve `requester`'s grant (the puppet rule), or None."""
    shared = puppet_conflict(session, requester, approver)
    if not shared:
        return None
    return (f"审批被拒绝：申请人 {requester.username} 与审批人 {approver.username} 的账号均由 {shared} "
            "创建或最近重置密码（同一人可能掌握两个账号的密码），须由其他审批人审批")


def pending_of(session: Session, user: User) -> list[PendingAccountChange]:
    return list(session.execute(
        select(PendingAccountChange).where(PendingAccountChange.user_id == user.id,
                                           PendingAccountChange.status == "pending")
        .order_by(PendingAccountChange.id)).scalars())


def queue(session: Session, *, limit: int = 200) -> list[PendingAccountChange]:
    """Pending changes first (oldest first), then the latest decisions."""
    pending = list(session.execute(select(PendingAccountChange)
                                   .where(PendingAccountChange.status == "pending")
                                   .order_by(PendingAccountChange.id)).scalars())
    decided = list(session.execute(select(PendingAccountChange)
                                   .where(PendingAccountChange.status != "pending")
                                   .order_by(PendingAccountChange.id.desc()).limit(limit)).scalars())
    return pending + decided


def _propose(session: Session, user: User, *, kind: str, proposer: str, payload: dict,
             summary: str) -> PendingAccountChange:
    for other in pending_of(session, user):
        if other.kind in (kind, "create"):
            raise AccountConflict(f"{user.username} 已有待确认的变更 #{other.id}"
                               f"（{KIND_LABELS[other.kind]}），请等待另一名安全管理员处理")
    change = PendingAccountChange(kind=kind, user_id=user.id, user=user, payload=payload,
                                  summary=summary, proposed_by=proposer, proposed_at=utcnow(),
                                  status="pending", decision_reason="")
    session.add(change)
    session.flush()
    return change


def propose_create(session: Session, user: User, *, proposer: str) -> PendingAccountChange:
    """`user` was just created: it stays disabled until a second security admin confirms."""
    user.is_enabled = False
    user.created_by = proposer
    return _propose(session, user, kind="create", proposer=proposer, payload={"role": user.role},
                    summary=f"创建账号 {user.username}（角色 {user.role}）")


def propose_role(session: Session, user: User, *, role: str, proposer: str,
                 proposer_id: int | None = None) -> PendingAccountChange:
    new = normalise_roles(role)
    if proposer_id is not None and user.id == proposer_id:
        raise AccountRefused("不能修改自己的角色")
    return _propose(session, user, kind="role", proposer=proposer, payload={"role": new},
                    summary=f"角色 {user.role} → {new}")


def propose_enable(session: Session, user: User, *, proposer: str) -> PendingAccountChange:
    return _propose(session, user, kind="enable", proposer=proposer, payload={},
                    summary="重新启用账号")


def propose_reset(session: Session, user: User, *, password: str,
                  proposer: str) -> PendingAccountChange:
    """Only the new password's hash is kept; the old password stays in force until confirmed."""
    return _propose(session, user, kind="reset_password", proposer=proposer,
                    payload={"password_hash": hash_password(password)}, summary="重置密码")


def check_decider(change: PendingAccountChange, by: User) -> None:
    """Raise AccountError (the reason, in Chinese) unless `by` may confirm or reject `change`."""
    if change.status != "pending":
        raise AccountConflict(f"变更 #{change.id} 已处理（{STATUS_LABELS.get(change.status, change.status)}）")
    if not has_permission(by.role, Permission.USER_MANAGE):
        raise AccountRefused("只有安全管理员可以确认账号变更")
    if by.username == change.proposed_by:
        raise AccountRefused(f"变更 #{change.id} 由您本人提出，须由另一名安全管理员确认")
    if by.id == change.user_id:
        raise AccountRefused(f"变更 #{change.id} 针对您本人的账号，须由另一名安全管理员确认")
    session = object_session(change)
    if change.proposed_by in lineage(session, by):
        raise AccountRefused(f"您的账号由 {change.proposed_by} 创建或重置密码，不能确认其提出的变更 "
                           f"#{change.id}（防止一人操纵多个账号）")
    proposer = session.execute(select(User).where(User.username == change.proposed_by)).scalar_one_or_none()
    if proposer is not None and by.username in lineage(session, proposer):
        raise AccountRefused(f"提出人 {change.proposed_by} 的账号由您创建或重置密码，您不能确认其提出的变更 "
                           f"#{change.id}（防止一人操纵多个账号）")


def confirm(session: Session, change: PendingAccountChange, *, by: User) -> str:
    """Apply `change`; returns what took effect, for the audit record."""
    check_decider(change, by)
    user = change.user
    if change.kind == "create":
        user.is_enabled = True
        done = f"账号 {user.username} 已生效（角色 {user.role}）"
    elif change.kind == "role":
        new = normalise_roles(change.payload["role"])  # the rules may have changed since
        done = f"角色 {user.role} → {new}"
        user.role = new
        end_all_sessions(user)  # sign in again under the new roles; the old token ends too
        user.api_token_hash = None
    elif change.kind == "enable":
        user.is_enabled = True
        done = "账号已重新启用"
    elif change.kind == "reset_password":
        user.password_hash = change.payload["password_hash"]
        user.failed_logins, user.locked_until = 0, None
        user.last_reset_by = change.proposed_by
        end_all_sessions(user)
        user.api_token_hash = None
        done = "密码已重置，全部会话和 API 令牌已结束"
    else:
        raise AccountError(f"未知的变更类型 {change.kind!r}")
    change.status, change.decided_by, change.decided_at = "confirmed", by.username, utcnow()
    change.payload = {k: v for k, v in change.payload.items() if k != "password_hash"}
    session.flush()
    return done


def reject(session: Session, change: PendingAccountChange, *, by: User, reason: str) -> str:
    check_decider(change, by)
    if not reason.strip():
        raise AccountError("驳回必须填写理由")
    change.status, change.decided_by, change.decided_at = "rejected", by.username, utcnow()
    change.decision_reason = reason.strip()[:255]
    change.payload = {k: v for k, v in change.payload.items() if k != "password_hash"}
    session.flush()
    return f"已驳回：{change.summary}（{change.decision_reason}）"
