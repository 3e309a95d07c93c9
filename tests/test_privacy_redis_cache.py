"""What a reader searched must not be readable from Redis: the reading cache's entries are
encrypted, and their *names* are derived from the search parameters. With an unkeyed sha256 as
the name, anyone who can list Redis keys (a Redis backup, `KEYS reading:*`) recovers a query
typed as an ID number by hashing the few thousand candidates of a region and birth date. The
test searches for an ID through the real API and Redis, then tries exactly that."""
from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import pytest
import redis

from tests.conftest import bearer_client, meta
from tests.privacy_data import id_number

pytestmark = pytest.mark.integration

FILE = "PRIV9-RC-0001"


def test_cache_key_names_do_not_reveal_the_query(app, ctx, ingest, make_user, make_grant):
    progress, _ = ingest([meta(FILE, pages=[["缓存键攻击 第一页 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    api = bearer_client(app, user)
    sid = api.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "缓存核实"}).json["id"]
    secret = id_number("110105", "19900307", "417")
    assert api.get(f"/api/v1/sessions/{sid}/search?q={quote(secret)}").status_code == 200

    names = [k.decode() for k in redis.Redis.from_url(app.config["REDIS_URL"])
             .scan_iter(match=f"reading:{sid}:*")]
    assert names, "the search was not cached (nothing to attack)"
    recovered = []
    for seq in range(1000):  # the attacker's candidates: one region and birth date
        guess = id_number("110105", "19900307", f"{seq:03d}")
        digest = hashlib.sha256(json.dumps([["q", guess]], sort_keys=True,
                                           ensure_ascii=False).encode()).hexdigest()[:40]
        if any(name.endswith(digest) for name in names):
            recovered.append(guess)
    assert not recovered, f"the searched ID {recovered} is recovered from Redis key names {names}"
