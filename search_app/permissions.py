"""Roles, permissions and the one decorator that enforces them on views.

Views declare what they need (`@requires(Permission.ARCHIVE_SEARCH)`); nothing checks roles
inline. Separation of duties (三员分立): the auditor reads the log and cannot search archives;
the security admin manages users but reads no archives; the system admin runs ingestion.
"""
from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any, TypeVar

from flask import abort, request
from flask_login import current_user, login_required


class Role(StrEnum):
    STAFF = "staff"
    APPROVER = "approver"
    SECURITY_ADMIN = "security_admin"
    SYSTEM_ADMIN = "system_admin"
    AUDITOR = "auditor"
    QA_REVIEWER = "qa_reviewer"  # 数字化质检 (DA/T 31-2017): reviews scanned pages of its batches
    RECORDS_HEAD = "records_head"  # 档案室负责人: use register, appraisal, destruction approval


ROLE_LABELS = {Role.STAFF: "查询人员", Role.APPROVER: "审批人", Role.SECURITY_ADMIN: "安全管理员",
               Role.SYSTEM_ADMIN: "系统管理员", Role.AUDITOR: "安全审计员",
               Role.QA_REVIEWER: "数字化质检",
               Role.RECORDS_HEAD: "档案室负责人"}


class Permission(StrEnum):
    ARCHIVE_SEARCH = "archive:pages:search"
    GRANT_READ_OWN = "grants:own:read"
    GRANT_REQUEST = "grants:own:request"
    GRANT_APPROVE = "grants:any:approve"
    AUDIT_READ = "audit:log:read"
    USER_MANAGE = "users:any:manage"
    INGEST_RUN = "ingest:jobs:run"
    QA_REVIEW = "qa:pages:review"  # the review queue, within the reviewer's own scope (search_app.qa)
    QA_SCOPE_MANAGE = "qa:scopes:manage"  # give and revoke QA scopes
    CATALOGUE_MANAGE = "catalogue:entries:manage"
    REGISTER_READ = "register:entries:read"  # 利用登记 and 销毁清册 (no page content)
    REGISTER_ANNOTATE = "register:entries:annotate"  # 利用效果
    RETENTION_APPRAISE = "retention:files:appraise"  # 到期鉴定, destruction requests
    DESTRUCTION_APPROVE = "retention:destruction:approve"
    DESTRUCTION_EXECUTE = "retention:destruction:execute"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset({Permission.ARCHIVE_SEARCH, Permission.GRANT_READ_OWN,
                           Permission.GRANT_REQUEST}),
    # approvers (supervisors) may also be one of a destruction request's two approvers
    Role.APPROVER: frozenset({Permission.GRANT_APPROVE, Permission.DESTRUCTION_APPROVE}),
    Role.SECURITY_ADMIN: frozenset({Permission.USER_MANAGE, Permission.QA_SCOPE_MANAGE}),
    Role.SYSTEM_ADMIN: frozenset({Permission.INGEST_RUN, Permission.CATALOGUE_MANAGE,
                                  Permission.DESTRUCTION_EXECUTE}),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ, Permission.REGISTER_READ}),
    Role.QA_REVIEWER: frozenset({Permission.QA_REVIEW}),
    # The records office head reads the register and runs appraisal; never page content.
    Role.RECORDS_HEAD: frozenset({Permission.REGISTER_READ, Permission.REGISTER_ANNOTATE,
                                  Permission.RETENTION_APPRAISE, Permission.DESTRUCTION_APPROVE}),
}

# Separation of duties: the only roles one account may combine. A searcher may also approve
# (never their own request: grants.services enforces that); the three administrators (system,
# security, audit) each stand alone, so no account both manages users and reads the log, and
# no administrator reads archives.
COMPATIBLE_ROLES: frozenset[frozenset[Role]] = frozenset({frozenset({Role.STAFF, Role.APPROVER})})


def parse_roles(value: str | list[str] | tuple[str, ...]) -> list[Role]:
    """Roles from their stored form ("staff,approver") or a list; unknown names raise ValueError."""
    names = value.split(",") if isinstance(value, str) else list(value)
    roles = sorted({Role(n.strip()) for n in names if n.strip()}, key=list(Role).index)
    if not roles:
        raise ValueError("至少指定一个角色")
    return roles


def role_conflict(roles: list[Role]) -> str | None:
    """Why this combination breaks separation of duties, or None if it may be held together."""
    held = frozenset(roles)
    if len(held) <= 1 or held in COMPATIBLE_ROLES:
        return None
    if {Role.SECURITY_ADMIN, Role.AUDITOR} <= held:
        return "同一账号不能同时担任安全管理员和安全审计员（三员分立）"
    if Role.AUDITOR in held:
        return "安全审计员只能审阅日志，不能兼任其他角色（三员分立）"
    admins = held & {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN}
    if admins:
        names = "、".join(ROLE_LABELS[r] for r in sorted(admins, key=list(Role).index))
        return f"{names}不能兼任其他角色（三员分立，管理员不查询、不审批档案）"
    return "这些角色不能由同一账号担任"


def role_labels(value: str) -> str:
    try:
        return "、".join(ROLE_LABELS[r] for r in parse_roles(value))
    except ValueError:
        return value


def has_permission(role: str, perm: Permission) -> bool:
    """`role` is the stored role string, one role or several joined by commas."""
    try:
        return any(perm in ROLE_PERMISSIONS[r] for r in parse_roles(role))
    except ValueError:
        return False


F = TypeVar("F", bound=Callable[..., Any])


def requires(perm: Permission) -> Callable[[F], F]:
    """Login required, then 403 unless the user's role carries `perm`."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_permission(current_user.role, perm):
                reason = (f"您的角色（{role_labels(current_user.role)}）"
                          f"没有此项权限：{perm.value}")
                _audit_denial(request.endpoint or "", reason)
                abort(403, description=reason)
            return view(*args, **kwargs)
        wrapped.required_permission = perm  # type: ignore[attr-defined]
        return login_required(wrapped)  # type: ignore[return-value]
    return decorator


def _audit_denial(endpoint: str, reason: str) -> None:
    """Refusals are accountable too (DESIGN rule 3): an auditor probing /search leaves a trace."""
    from search_app.audit.service import Event, record_event, request_actor

    record_event(request_actor(), Event(action=f"route:{endpoint}", outcome="denied", reason=reason))


def signed_in(view: F) -> F:
    """Open to every signed-in user whatever the role (logout, who-am-I); the route test checks it."""
    view.any_signed_in = True  # type: ignore[attr-defined]
    return login_required(view)  # type: ignore[return-value]


def public(view: F) -> F:
    """Marks a view as deliberately open (login page, health); the route audit test checks it."""
    view.is_public = True  # type: ignore[attr-defined]
    return view
