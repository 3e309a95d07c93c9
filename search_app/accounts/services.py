from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from search_app import limits
from search_app.accounts.models import User
from search_app.permissions import parse_roles, role_conflict
from search_app.timeutil import utcnow

_hasher = PasswordHasher()
# Verifying against a fixed hash for unknown users keeps the response time the same, so the
# login form does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    pass


def check_lengths(*, username: str | None = None, display_name: str | None = None,
                  unit: str | None = None) -> None:
    """Refuse (never shorten) a value longer than its column; the message names the limit."""
    reason = (limits.too_long("用户名", username, limits.USERNAME)
              or limits.too_long("姓名", display_name, limits.DISPLAY_NAME)
              or limits.too_long("单位", unit, limits.UNIT))
    if reason:
        raise AccountError(reason)


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AccountError("密码至少 8 位")
    return _hasher.hash(password)


def normalise_roles(role: str | list[str]) -> str:
    """The stored role string, after checking every name and separation of duties."""
    if not (role.strip() if isinstance(role, str) else [r for r in role if r.strip()]):
        raise AccountError("至少选择一个角色")
    try:
        roles = parse_roles(role)
    except ValueError as exc:
        raise AccountError(f"未知角色 {role!r}；可选：staff, approver, security_admin, "
                           f"system_admin, auditor（{exc}）") from None
    conflict = role_conflict(roles)
    if conflict:
        raise AccountError(conflict)
    return ",".join(r.value for r in roles)


def create_user(session: Session, *, username: str, password: str, role: str | list[str],
                display_name: str = "", unit: str = "", id_number_hmac: str | None = None) -> User:
    role = normalise_roles(role)
    username = username.strip()
    if not username or any(ch.isspace() for ch in username):
        raise AccountError(f"用户名不能为空、不能含空格，最长 {limits.USERNAME} 个字符")
    check_lengths(username=username, display_name=display_name, unit=unit)
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise AccountError(f"用户名 {username} 已存在")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username, unit=unit, id_number_hmac=id_number_hmac,
                relative_hmacs=[], failed_logins=0, session_epoch=0)
    session.add(user)
    session.flush()
    return user


class LoginRefused(PermissionError):
    """`message` is shown to the person at the login form; `reason` goes to the audit log."""

    def __init__(self, message: str, reason: str, user: User | None = None) -> None:
        super().__init__(message)
        self.message, self.reason, self.user = message, reason, user


def authenticate(session: Session, username: str, password: str, *, max_failures: int,
                 lockout_minutes: int) -> User:
    """The user, or LoginRefused. `max_failures` wrong passwords in a row lock the account for
    `lockout_minutes` (a security admin can unlock it sooner).

    Each attempt is counted (an atomic increment, committed) *before* the password is checked,
    and refused unchecked once the allowance is used up: parallel guesses cannot all read the
    same counter and outrun the lock, and the counter cannot be reset by retrying."""
    # An over-long name cannot exist (create_user refuses it): answered like an unknown one,
    # without a query for a 20,000-character value.
    user = (None if len(username) > limits.USERNAME else
            session.execute(select(User).where(User.username == username)).scalar_one_or_none())
    now = utcnow()
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            pass
        raise LoginRefused("用户名或密码错误", "用户名或密码错误")
    attempt = session.execute(
        update(User).where(User.id == user.id,
                           or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    if attempt is not None and attempt > max_failures:  # parallel guesses used up the allowance
        _lock(session, user, now, lockout_minutes)
    session.commit()
    session.refresh(user)
    if attempt is None or attempt > max_failures:
        raise LoginRefused(f"账号已锁定，请于 {user.locked_until:%H:%M} UTC 后再试或联系安全管理员",
                           "账号已锁定", user)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        reason = f"用户名或密码错误（连续第 {attempt} 次）"
        if attempt >= max_failures:
            _lock(session, user, now, lockout_minutes)
            reason += f"，账号锁定 {lockout_minutes} 分钟"
        session.commit()
        raise LoginRefused("用户名或密码错误", reason, user) from None
    user.failed_logins, user.locked_until = 0, None
    if not user.is_enabled:
        session.commit()
        raise LoginRefused("账号已停用，请联系安全管理员", "账号已停用", user)
    user.last_login_at = now
    session.commit()
    return user


def _lock(session: Session, user: User, now: datetime, lockout_minutes: int) -> None:
    session.execute(update(User).where(User.id == user.id)
                    .values(locked_until=now + timedelta(minutes=lockout_minutes), failed_logins=0)
                    .execution_options(synchronize_session=False))


def end_all_sessions(user: User) -> None:
    """Every session cookie issued before now stops working on its next request."""
    user.session_epoch = (user.session_epoch or 0) + 1


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, user: User) -> str:
    """A new bearer token for the JSON API; only its digest is stored, so it is shown once."""
    token = "ast_" + secrets.token_urlsafe(32)
    user.api_token_hash = _token_digest(token)
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    if not token.startswith("ast_"):
        return None
    user = session.execute(
        select(User).where(User.api_token_hash == _token_digest(token))).scalar_one_or_none()
    return user if user is not None and user.is_enabled else None


# --- user management (security admin); every change is audited by the caller's view/CLI ---

def update_user(session: Session, user: User, *, by: User, role: str | list[str] | None = None,
                unit: str | None = None, display_name: str | None = None,
                enabled: bool | None = None) -> list[str]:
    """Apply the changes a security admin asked for; returns what changed, for the audit record.
    Nobody changes their own roles or disables themselves: that would let one security admin
    grant themselves archive access or lock everyone else out of oversight."""
    changes: list[str] = []
    check_lengths(display_name=display_name.strip() if display_name else None,
                  unit=unit.strip() if unit else None)  # before any field changes
    if role is not None:
        new = normalise_roles(role)
        if new != user.role:
            if user.id == by.id:
                raise AccountError("不能修改自己的角色")
            changes.append(f"角色 {user.role} → {new}")
            user.role = new
            # Permissions changed: sign in again under the new roles, and the API token issued
            # for the old ones stops working too (a new one is issued deliberately, via the CLI).
            end_all_sessions(user)
            user.api_token_hash = None
    if unit is not None and unit.strip() != user.unit:
        changes.append(f"单位 {user.unit or '—'} → {unit.strip()}")
        user.unit = unit.strip()
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        changes.append(f"姓名 {user.display_name} → {display_name.strip()}")
        user.display_name = display_name.strip()
    if enabled is not None and enabled != user.is_enabled:
        if user.id == by.id:
            raise AccountError("不能停用自己的账号")
        user.is_enabled = enabled
        changes.append("启用账号" if enabled else "停用账号")
        if not enabled:
            end_all_sessions(user)
            user.api_token_hash = None
    session.flush()
    return changes


def set_identity(user: User, *, own_hmac: str | None, relative_hmacs: list[str]) -> None:
    """Self-exclusion identity: blind-index hashes only, never the numbers themselves."""
    user.id_number_hmac = own_hmac
    user.relative_hmacs = sorted(set(relative_hmacs))


def reset_password(user: User, password: str) -> None:
    """A reset usually follows a suspected compromise: every session and the API token end."""
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    end_all_sessions(user)
    user.api_token_hash = None


def unlock(user: User) -> None:
    user.failed_logins, user.locked_until = 0, None
