"""How each kind of setting is parsed and checked, for search_app.config (the one module that
reads the environment). Each parser names the setting in its error, and none echoes a secret."""
from __future__ import annotations

import base64
import ipaddress
import os
from typing import Any, Union
from urllib.parse import urlsplit

IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


# Key ids are written into every ciphertext header between ":" separators and into
# page_secrets.key_id (32 characters): letters, digits, "_", "-", "." only.
_KEY_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _parse(kind: str, name: str, raw: str) -> Any:
    if kind == "str":
        return raw
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if kind == "bool":
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if kind == "key":
        return parse_key(name, raw)
    if kind == "https_urls":
        return parse_https_urls(name, raw)
    if kind == "redis_url":
        return parse_redis_url(name, raw)
    if kind == "list":
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if kind == "key_id":
        return parse_key_id(name, raw)
    if kind == "steps":
        return parse_steps(name, raw)
    if kind == "hours":
        return parse_hours(name, raw)
    if kind == "timezone":
        return parse_timezone(name, raw)
    if kind == "keyring":
        return parse_keyring(name, raw)
    if kind == "networks":
        return parse_networks(name, raw)
    if kind == "processes":
        return parse_processes(name, raw)
    if kind == "replicas":
        return parse_replicas(name, raw)
    raise ConfigError(f"{name}: unknown kind of setting {kind!r} (a bug in search_app/config.py)")


def parse_https_urls(name: str, raw: str) -> str:
    """The engine is never reached over plain HTTP: credentials would cross the wire in clear."""
    urls = [u.strip() for u in raw.split(",") if u.strip()]
    if not urls:
        raise ConfigError(f"{name} is empty")
    for url in urls:
        if urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise ConfigError(f"{name}: {url!r} must be an https:// URL (the engine runs TLS)")
    return raw


def parse_redis_url(name: str, raw: str) -> str:
    """Redis is never used without its password; the message must not echo the URL."""
    parts = urlsplit(raw)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigError(f"{name} must be a redis:// or rediss:// URL")
    if not parts.password:
        raise ConfigError(f"{name} carries no password (redis://:<password>@{parts.hostname}:"
                          f"{parts.port or 6379}/...); Redis requires one")
    return raw


def parse_steps(name: str, raw: str) -> tuple[str, ...]:
    """OCR preprocessing step names, checked now: a misspelt step must stop start-up, not fail
    every page of the next batch."""
    from indexer.preprocess import STEPS

    steps = tuple(part.strip() for part in raw.split(",") if part.strip())
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        raise ConfigError(f"{name}: unknown step(s) {', '.join(unknown)}; known: {', '.join(STEPS)}")
    return steps


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask, e.g. a container's cpuset), not the
    machine's: more page processes than that only share the same cores."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def parse_processes(name: str, raw: str) -> int:
    """"auto" -> cpu_count(), else a whole number of at least 1."""
    if raw.strip().lower() == "auto":
        return cpu_count()
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"{name} must be 'auto' or a whole number of at least 1, got {raw!r}")
    return n


def parse_replicas(name: str, raw: str) -> int | str:
    """"auto" (kept as "auto": the engine sizes replicas to its data nodes, search_app.search.
    _backend.replica_settings), else a fixed whole number of replicas, 0 or more."""
    if raw.strip().lower() == "auto":
        return "auto"
    try:
        n = int(raw)
    except ValueError:
        n = -1
    if n < 0:
        raise ConfigError(f"{name} must be 'auto' or a whole number of at least 0, got {raw!r}")
    return n


def parse_hours(name: str, raw: str) -> tuple[int, int]:
    """"08-19" -> (8, 19): local hours [start, end)."""
    start, sep, end = raw.partition("-")
    try:
        hours = (int(start), int(end))
    except ValueError:
        hours = (-1, -1)
    if not sep or not 0 <= hours[0] < hours[1] <= 24:
        raise ConfigError(f"{name} must be HH-HH with 0 <= start < end <= 24, got {raw!r}")
    return hours


def parse_timezone(name: str, raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name}: unknown time zone {raw!r} (e.g. Asia/Shanghai)") from None
    return raw


def parse_key_id(name: str, raw: str) -> str:
    if not raw or len(raw) > 32 or not set(raw) <= _KEY_ID_CHARS:
        raise ConfigError(f"{name}: key id {raw!r} must be 1-32 letters, digits, '_', '-' or '.'")
    return raw


def parse_networks(name: str, raw: str) -> tuple[IPNetwork, ...]:
    """"127.0.0.1,10.0.0.0/24" -> networks; a bare address is a /32 (or /128)."""
    out = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or network") from None
    return tuple(out)


def parse_keyring(name: str, raw: str) -> dict[str, bytes]:
    """"k1:<base64>,k0:<base64>" -> {key id: key}; an empty string is an empty keyring."""
    ring: dict[str, bytes] = {}
    for n, item in enumerate((part.strip() for part in raw.split(",")), start=1):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep:  # the message must not echo the entry: it may be a bare key
            raise ConfigError(f"{name}: entry {n} is not <key id>:<base64 key>")
        key_id = parse_key_id(name, key_id.strip())
        if key_id in ring:
            raise ConfigError(f"{name}: key id {key_id!r} is listed twice")
        ring[key_id] = parse_key(f"{name} ({key_id})", encoded.strip())
    return ring


def parse_key(name: str, raw: str) -> bytes:
    """Keys are 32 random bytes, written as url-safe base64 (what `flask gen-keys` prints)."""
    try:
        key = base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        raise ConfigError(f"{name} is not base64") from None
    if len(key) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key
