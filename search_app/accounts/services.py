from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.permissions import Role

_hasher = PasswordHasher()
# Verifying against a fixed hash for unknown users keeps the response time the same, so the
# login form does not reveal which user names exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise AccountError("密码至少 8 位")
    return _hasher.hash(password)


def create_user(session: Session, *, username: str, password: str, role: str,
                display_name: str = "", unit: str = "", id_number_hmac: str | None = None) -> User:
    try:
        Role(role)
    except ValueError:
        raise AccountError(f"未知角色 {role!r}；可选：{', '.join(r.value for r in Role)}") from None
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise AccountError(f"用户名 {username} 已存在")
    user = User(username=username, password_hash=hash_password(password), role=role,
                display_name=display_name or username, unit=unit, id_number_hmac=id_number_hmac)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_enabled:
        return None
    return user


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
