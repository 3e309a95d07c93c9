"""Per-session cache of what a reader was already shown (result pages, page views, images).

Back, reload and paging back to a page seen a minute ago then show it again without a new read
(and without a new audit record: what is audited is each new read). Entries live in Redis under
`reading:<session id>:…`, AES-GCM encrypted with the data key and bound to their key, for
READING_CACHE_SECONDS; closing the session drops them. Only the redacted form is ever stored
(results, masked page text, watermarked redacted images; unmasked text is never cached).

Redis being unavailable only costs the cache: the read then happens again, and is audited again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import redis
from flask import current_app

from search_app.crypto import DecryptError, vault_from_config

log = logging.getLogger(__name__)


def _client() -> redis.Redis:
    client = current_app.extensions.get("reading_cache")
    if client is None:
        client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=3)
        current_app.extensions["reading_cache"] = client
    return client


def key(sid: str, kind: str, params: Any) -> str:
    """The entry's name: a *keyed* hash of the parameters (the blind-index key), since key names
    are readable to whoever lists Redis, and the parameters hold the query as typed: an unkeyed
    hash of "110105199003071234" is found by hashing a region's candidates."""
    raw = json.dumps(params, sort_keys=True, ensure_ascii=False).encode()
    digest = hmac.new(current_app.config["ARCHIVE_BLIND_INDEX_KEY"], b"reading-cache\0" + raw,
                      hashlib.sha256)
    return f"reading:{sid}:{kind}:{digest.hexdigest()[:40]}"


def get_bytes(name: str) -> bytes | None:
    try:
        blob = _client().get(name)
    except redis.RedisError as exc:
        log.warning("reading cache unavailable (%s): reading again", exc)
        return None
    if blob is None:
        return None
    try:
        return vault_from_config(current_app.config).decrypt(blob, aad=name.encode())
    except DecryptError:  # written under another key or tampered with: read again instead
        log.warning("reading cache entry %s failed authentication: ignored", name)
        return None


def put_bytes(name: str, value: bytes) -> None:
    blob = vault_from_config(current_app.config).encrypt(value, aad=name.encode())
    try:
        _client().set(name, blob, ex=current_app.config["READING_CACHE_SECONDS"])
    except redis.RedisError as exc:
        log.warning("reading cache unavailable (%s): not cached", exc)


def get_json(name: str) -> Any:
    raw = get_bytes(name)
    return None if raw is None else json.loads(raw)


def put_json(name: str, value: Any) -> None:
    put_bytes(name, json.dumps(value, ensure_ascii=False, default=str).encode())


def drop(sid: str) -> None:
    """Forget everything cached for the session (it was closed or has ended)."""
    try:
        client = _client()
        names = list(client.scan_iter(match=f"reading:{sid}:*", count=500))
        if names:
            client.delete(*names)
    except redis.RedisError as exc:
        log.warning("reading cache unavailable (%s): entries of %s expire by themselves", exc, sid)
