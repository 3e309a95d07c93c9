"""Login throttling: a progressive delay per typed name, per client address and per pair,
instead of a lock-out anyone could keep on `admin` forever.

After `free` failures on a key, the next attempt is only checked once 2, 4, 8 … seconds
(capped at `max_delay_s`) have passed since the last one; earlier attempts get "请稍后再试"
unchecked. At an address the account has signed in from recently (a server session row from
there) only the pair key applies, so failures from an attacker's address - or from colleagues
behind the same NAT - throttle them but never the real user at their own desk. Keys are the typed name, so an
unknown name is throttled exactly like an existing one: the answers reveal nothing.

The typed name is kept only as its keyed hash (the blind index, as the audit log keeps values):
people type their ID number, phone or own name into the account field, and the throttle table
must not become a list of them. A row names its account (staff data, in `users` anyway) only
when the typed name is one; for any other name the security admin sees "无此用户" and the key.

Each attempt is counted with a compare-and-set *before* the password is checked, so parallel
guesses cannot all read the same counter and outrun the delay.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from search_app.accounts.models import LoginThrottle, UserSession
from search_app.crypto import vault_from_config
from search_app.timeutil import utcnow

SCOPE_LABELS = {"account": "用户名", "address": "地址", "pair": "用户名+地址"}


@dataclass(frozen=True)
class ThrottlePolicy:
    free: int = 5  # failures per name (and per name at one address) before any delay
    address_free: int = 20  # failures per client address, over all names
    max_delay_s: int = 900
    window_minutes: int = 60  # a key forgets its failures after this long without one
    trusted_days: int = 30  # an address the account signed in from this recently is its own

    @classmethod
    def from_config(cls, config) -> ThrottlePolicy:
        return cls(free=config["LOGIN_MAX_FAILURES"], address_free=config["LOGIN_ADDR_MAX_FAILURES"],
                   max_delay_s=config["LOGIN_MAX_DELAY_S"],
                   window_minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"],
                   trusted_days=config["LOGIN_TRUSTED_DAYS"])

    def delay(self, failures: int, free: int) -> int:
        """Seconds to wait after `failures` failures: 0 up to `free`, then 2, 4, 8 … capped."""
        if failures < free:
            return 0
        return min(self.max_delay_s, 2 ** min(failures - free + 1, 30))


@dataclass(frozen=True)
class Key:
    scope: str
    name_hmac: str  # keyed hash of the typed name ("" for the address key)
    client_addr: str
    username: str = ""  # the account's name when the typed name is one; never other typed text

    @property
    def id(self) -> str:
        raw = f"{self.name_hmac}\x00{self.client_addr}".encode()
        return f"{self.scope}:{hashlib.sha256(raw).hexdigest()}"


class Throttled(Exception):
    def __init__(self, key: Key, wait_s: int) -> None:
        super().__init__(f"{SCOPE_LABELS[key.scope]} 受限，{wait_s} 秒后可再试")
        self.key, self.wait_s = key, wait_s


def name_hmac(typed: str) -> str:
    """The keyed hash under which the throttle counts a typed account name."""
    return vault_from_config(current_app.config).blind_index("login_name", typed[:64])


def keys_for(typed: str, client_addr: str, *, account: str = "") -> tuple[Key, Key, Key]:
    """The three keys of one attempt. `account`: the account's name when `typed` is one (shown
    to the security admin); an unknown name leaves no trace but its hash."""
    name, addr, label = name_hmac(typed), client_addr[:64], account[:64]
    return (Key("account", name, "", label), Key("pair", name, addr, label),
            Key("address", "", addr))


def is_trusted(session: Session, user_id: int | None, client_addr: str, policy: ThrottlePolicy,
               now: datetime) -> bool:
    """Has this account signed in from this address recently? Run for unknown names too
    (user id -1), so both take the same queries."""
    since = now - timedelta(days=policy.trusted_days)
    row = session.execute(select(UserSession.id).where(
        UserSession.user_id == (user_id if user_id is not None else -1),
        UserSession.client_addr == client_addr[:64], UserSession.created_at >= since).limit(1)).first()
    return row is not None and bool(client_addr)


def _free(key: Key, policy: ThrottlePolicy) -> int:
    return policy.address_free if key.scope == "address" else policy.free


def claim(session: Session, keys: list[Key], policy: ThrottlePolicy,
          now: datetime) -> dict[str, int]:
    """Count one attempt on every key, or raise Throttled (naming the key) if one is still
    waiting. Each count is committed at once, so it survives whatever the check does next.
    Returns each key's count including this attempt (distinct per attempt: compare-and-set)."""
    session.commit()
    if secrets.randbelow(100) == 0:  # forgotten keys (sprayed names) do not pile up
        purge(session, policy, now)
    return {key.scope: _claim_one(session, key, policy, now) for key in keys}


def purge(session: Session, policy: ThrottlePolicy, now: datetime) -> int:
    """Delete keys whose failures are forgotten anyway (no failure within the window)."""
    since = now - timedelta(minutes=policy.window_minutes)
    n = session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < since)).rowcount
    session.commit()
    return n


def _claim_one(session: Session, key: Key, policy: ThrottlePolicy, now: datetime) -> int:
    for _ in range(50):  # compare-and-set; a lost race re-reads and decides again
        row = session.execute(select(LoginThrottle.failures, LoginThrottle.next_at,
                                     LoginThrottle.last_failure_at)
                              .where(LoginThrottle.key == key.id)).first()
        if row is None:
            session.add(LoginThrottle(key=key.id, scope=key.scope, username=key.username,
                                      client_addr=key.client_addr, failures=0))
            try:
                session.commit()
            except IntegrityError:  # another attempt created it first
                session.rollback()
            continue
        failures, next_at, last = row
        stale = last is not None and now - last > timedelta(minutes=policy.window_minutes)
        if next_at is not None and now < next_at and not stale:
            session.rollback()
            raise Throttled(key, max(1, int((next_at - now).total_seconds() + 0.999)))
        new = 1 if stale else failures + 1
        wait = policy.delay(new, _free(key, policy))
        done = session.execute(
            update(LoginThrottle).where(LoginThrottle.key == key.id,
                                        LoginThrottle.failures == failures)
            .values(failures=new, last_failure_at=now,
                    next_at=now + timedelta(seconds=wait) if wait else None)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if done:
            return new
    raise Throttled(key, 1)  # hopeless contention: refuse rather than check unthrottled


def succeeded(session: Session, keys: tuple[Key, Key, Key]) -> None:
    """The right password: forget the name's and the pair's failures; at the address only
    this attempt's own count is taken back (others' failures there still count)."""
    account, pair, address = keys
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_([account.id, pair.id])))
    session.execute(update(LoginThrottle).where(LoginThrottle.key == address.id,
                                                LoginThrottle.failures > 0)
                    .values(failures=LoginThrottle.failures - 1)
                    .execution_options(synchronize_session=False))


def throttled(session: Session, policy: ThrottlePolicy,
              now: datetime | None = None) -> list[LoginThrottle]:
    """Keys in the delay regime (for the security admin): their next failure waits longer,
    whether or not the current delay has run out, until the key forgets its failures."""
    now = now or utcnow()
    since = now - timedelta(minutes=policy.window_minutes)
    return list(session.execute(select(LoginThrottle).where(
        LoginThrottle.next_at.is_not(None), LoginThrottle.last_failure_at > since)
        .order_by(LoginThrottle.last_failure_at.desc())).scalars())


def lift(session: Session, key_id: str) -> LoginThrottle | None:
    row = session.get(LoginThrottle, key_id)
    if row is not None:
        session.delete(row)
        session.flush()
    return row


def lift_username(session: Session, username: str) -> int:
    """Every key of this name (name-wide and at every address)."""
    return session.execute(delete(LoginThrottle).where(
        LoginThrottle.username == username[:64],
        LoginThrottle.scope.in_(["account", "pair"]))).rowcount
