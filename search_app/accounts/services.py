from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from search_app import limits
from search_app.accounts import throttle
from search_app.accounts.models import User
from search_app.accounts.sessions import end_user_sessions
from search_app.accounts.throttle import ThrottlePolicy
from search_app.permissions import parse_roles, role_conflict
from search_app.timeutil import utcnow

_hasher = PasswordHasher()
# Verifying against a fixed hash for unknown users keeps the response time the same, so the
# login form does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# The login form's answers: the same for unknown, existing and throttled-but-existing names.
BAD_PASSWORD_MESSAGE = "用户名或密码错误"
THROTTLED_MESSAGE = "登录尝试过多，请稍后再试"


class AccountError(ValueError):
    """Bad input for an account change (the API answers 400); the message is the reason."""


class AccountRefused(AccountError):
    """A rule refuses the change (separation of duties, dual control, one's own account): 403."""


class AccountConflict(AccountError):
    """The current state does not allow it (name taken, a change already pending or decided): 409."""


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
        raise AccountRefused(conflict)
    return ",".join(r.value for r in roles)


def create_user(session: Session, *, username: str, password: str, role: str | list[str],
                display_name: str = "", unit: str = "", id_number_hmac: str | None = None) -> User:
    role = normalise_roles(role)
    username = username.strip()
    if not username or any(ch.isspace() for ch in username):
        raise AccountError(f"用户名不能为空、不能含空格，最长 {limits.USERNAME} 个字符")
    check_lengths(username=username, display_name=display_name, unit=unit)
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise AccountConflict(f"用户名 {username} 已存在")
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


def authenticate(session: Session, username: str, password: str, *, client_addr: str,
                 policy: ThrottlePolicy) -> User:
    """The user, or LoginRefused. No lock-out: repeated failures delay further attempts on the
    typed name, the client address and the pair (search_app.accounts.throttle). At an address
    this account signed in from recently only the pair counts: an attacker elsewhere (or
    other people behind the same NAT) cannot keep the real user out. Unknown and existing
    names take the same path (a dummy hash is verified) and get the same answers."""
    now = utcnow()
    # An over-long name cannot exist (create_user refuses it): answered like an unknown one,
    # without a query for a 20,000-character value.
    user = (None if len(username) > limits.USERNAME else
            session.execute(select(User).where(User.username == username)).scalar_one_or_none())
    keys = throttle.keys_for(username, client_addr, account=user.username if user else "")
    account, pair, address = keys
    trusted = throttle.is_trusted(session, user.id if user else None, client_addr, policy, now)
    try:
        counts = throttle.claim(session, [pair] if trusted else [account, pair, address],
                                policy, now)
    except throttle.Throttled as exc:
        raise LoginRefused(THROTTLED_MESSAGE, f"登录尝试过多，{exc}", user) from None
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        count = counts["pair"]
        reason = (f"用户名或密码错误（该用户名在此地址连续第 {count} 次）" if user else
                  "用户名或密码错误")
        wait = policy.delay(count, policy.free)
        if wait:
            reason += f"，此后每次须等待 {wait} 秒起"
        raise LoginRefused(BAD_PASSWORD_MESSAGE, reason, user)
    throttle.succeeded(session, keys)
    if not user.is_enabled:
        session.commit()
        raise LoginRefused("账号已停用，请联系安全管理员", "账号已停用", user)
    user.failed_logins, user.locked_until = 0, None
    user.last_login_at = now
    session.commit()
    return user


def end_all_sessions(user: User, reason: str = "logout_all") -> None:
    """Every session and the API token end: the epoch every cookie and token carries moves on,
    and every server session row of the user is ended (if the user is in a DB session)."""
    user.session_epoch = (user.session_epoch or 0) + 1
    user.api_token_hash = None
    db = object_session(user)
    if db is not None and user.id is not None:
        end_user_sessions(db, user.id, reason)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, user: User, *, days: int | None = None) -> str:
    """A new bearer token for the JSON API; only its digest is stored, so it is shown once. It
    expires after `days` (default API_TOKEN_DAYS) and ends with the user's sessions."""
    days = current_app.config["API_TOKEN_DAYS"] if days is None else days
    token = "ast_" + secrets.token_urlsafe(32)
    user.api_token_hash = _token_digest(token)
    user.api_token_expires_at = utcnow() + timedelta(days=days)
    user.api_token_epoch = user.session_epoch or 0
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The token's user while the token is unexpired, issued in the current session epoch
    and the account enabled; anything else is no token."""
    if not token.startswith("ast_"):
        return None
    user = session.execute(
        select(User).where(User.api_token_hash == _token_digest(token))).scalar_one_or_none()
    if user is None or not user.is_enabled:
        return None
    if user.api_token_expires_at is None or user.api_token_expires_at <= utcnow():
        return None
    if user.api_token_epoch != (user.session_epoch or 0):
        return None
    return user


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
                raise AccountRefused("不能修改自己的角色")
            changes.append(f"角色 {user.role} → {new}")
            user.role = new
            # Permissions changed: sign in again under the new roles, and the API token issued
            # for the old ones stops working too (a new one is issued deliberately, via the CLI).
            end_all_sessions(user, "role_change")
            user.api_token_hash = None
    if unit is not None and unit.strip() != user.unit:
        changes.append(f"单位 {user.unit or '—'} → {unit.strip()}")
        user.unit = unit.strip()
    if display_name is not None and display_name.strip() and display_name.strip() != user.display_name:
        changes.append(f"姓名 {user.display_name} → {display_name.strip()}")
        user.display_name = display_name.strip()
    if enabled is not None and enabled != user.is_enabled:
        if user.id == by.id:
            raise AccountRefused("不能停用自己的账号")
        user.is_enabled = enabled
        changes.append("启用账号" if enabled else "停用账号")
        if not enabled:
            end_all_sessions(user, "disabled")
            user.api_token_hash = None
    session.flush()
    return changes


def set_identity(user: User, *, own_hmac: str | None, relative_hmacs: list[str],
                 person_hmac: str | None = None) -> None:
    """Self-exclusion identity: blind-index hashes only, never the numbers themselves.
    `person_hmac` is the (name, birth date) term; it goes with the own ID number it came from."""
    if own_hmac != user.id_number_hmac or person_hmac is not None:
        user.person_hmac = person_hmac
    user.id_number_hmac = own_hmac
    user.relative_hmacs = sorted(set(relative_hmacs))


def reset_password(user: User, password: str) -> None:
    """A reset usually follows a suspected compromise: every session and the API token end."""
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    end_all_sessions(user, "reset")
    user.api_token_hash = None


def unlock(user: User) -> int:
    """Lift every login delay on this user's name (name-wide and at every address)."""
    user.failed_logins, user.locked_until = 0, None
    db = object_session(user)
    return throttle.lift_username(db, user.username) if db is not None else 0
