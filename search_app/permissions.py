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


ROLE_LABELS = {Role.STAFF: "查询人员", Role.APPROVER: "审批人", Role.SECURITY_ADMIN: "安全管理员",
               Role.SYSTEM_ADMIN: "系统管理员", Role.AUDITOR: "安全审计员"}


class Permission(StrEnum):
    ARCHIVE_SEARCH = "archive:pages:search"
    GRANT_READ_OWN = "grants:own:read"
    GRANT_APPROVE = "grants:any:approve"
    AUDIT_READ = "audit:log:read"
    USER_MANAGE = "users:any:manage"
    INGEST_RUN = "ingest:jobs:run"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.STAFF: frozenset({Permission.ARCHIVE_SEARCH, Permission.GRANT_READ_OWN}),
    Role.APPROVER: frozenset({Permission.GRANT_APPROVE}),
    Role.SECURITY_ADMIN: frozenset({Permission.USER_MANAGE}),
    Role.SYSTEM_ADMIN: frozenset({Permission.INGEST_RUN}),
    Role.AUDITOR: frozenset({Permission.AUDIT_READ}),
}


def has_permission(role: str, perm: Permission) -> bool:
    try:
        return perm in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


F = TypeVar("F", bound=Callable[..., Any])


def requires(perm: Permission) -> Callable[[F], F]:
    """Login required, then 403 unless the user's role carries `perm`."""
    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not has_permission(current_user.role, perm):
                reason = (f"您的角色（{ROLE_LABELS.get(current_user.role, current_user.role)}）"
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


def public(view: F) -> F:
    """Marks a view as deliberately open (login page, health); the route audit test checks it."""
    view.is_public = True  # type: ignore[attr-defined]
    return view
