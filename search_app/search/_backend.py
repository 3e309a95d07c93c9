"""The OpenSearch clients (built once per app) and index administration.

The engine runs its security plugin (TLS, internal users; docs/security.md), and the app talks to
it under three identities, each with only the rights its part needs:
- `reader()`: the web user, search/get through the alias only (the guarded reads);
- `writer()`: the worker user, index/delete/refresh documents (ingest, re-OCR);
- `admin()`: the operations identity, index creation, alias swap, snapshots (CLI, fixtures).
A process is given only the credentials it needs (the web container gets only the web user's);
asking for an identity it has no credentials for raises EngineIdentityError, before any request.

Indices are versioned (`<alias>-v<timestamp>`) behind an alias; a rebuild creates a fresh index,
loads it, and swaps the alias, deleting the half-built index if anything fails.
"""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from opensearchpy import OpenSearch, helpers

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"
# identity -> (settings prefix, what it is for, in the refusal message)
IDENTITIES: dict[str, tuple[str, str]] = {
    "web": ("OPENSEARCH_WEB", "检索读取"),
    "worker": ("OPENSEARCH_WORKER", "导入写入"),
    "admin": ("OPENSEARCH_ADMIN", "索引管理"),
}


class EngineIdentityError(RuntimeError):
    """This process has no credentials for the engine identity it asked for."""


def init_app(app: Flask) -> None:
    app.extensions["opensearch"] = {
        who: make_client(app.config, who) for who in IDENTITIES
        if app.config[f"{IDENTITIES[who][0]}_PASSWORD"]}


def make_client(config: Mapping[str, Any], identity: str, *,
                http_compress: bool = True, pool_maxsize: int | None = None) -> OpenSearch:
    """A client for `identity` ("web", "worker" or "admin"): https, CA-verified, basic auth.
    `http_compress=False` for bulk loads: gzip (level 9) of the bodies costs the client about
    as much CPU as the engine spends indexing them (bench/bulk_profile.py), for a link that is
    usually loopback or a LAN. `pool_maxsize` for a client shared by several threads (a
    parallel bulk): urllib3 keeps one connection per host by default, so every concurrent
    request beyond the first opened a new TLS connection and threw it away."""
    prefix = IDENTITIES[identity][0]
    return OpenSearch(hosts=[u.strip() for u in config["OPENSEARCH_URL"].split(",") if u.strip()],
                      http_auth=(config[f"{prefix}_USER"], config[f"{prefix}_PASSWORD"]),
                      use_ssl=True, verify_certs=True, ssl_show_warn=True,
                      ca_certs=config["OPENSEARCH_CA_CERTS"] or None,
                      timeout=config["OPENSEARCH_TIMEOUT"],
                      max_retries=config.get("OPENSEARCH_RETRIES", 1),
                      retry_on_timeout=True, http_compress=http_compress,
                      **({"pool_maxsize": pool_maxsize} if pool_maxsize else {}))


def engine(identity: str) -> OpenSearch:
    clients = current_app.extensions["opensearch"]
    if identity not in clients:
        prefix, purpose = IDENTITIES[identity]
        raise EngineIdentityError(
            f"此进程没有 OpenSearch {identity} 身份（{purpose}）的凭据："
            f"未设置 {prefix}_PASSWORD。该操作须由持有此身份的进程执行"
            + ("（索引管理请用 `flask ensure-index`）" if identity == "admin" else ""))
    return clients[identity]


def first_identity(*identities: str) -> OpenSearch:
    """The first of `identities` this process holds (for code that runs in several processes)."""
    clients = current_app.extensions["opensearch"]
    for identity in identities:
        if identity in clients:
            return clients[identity]
    return engine(identities[0])  # raises, naming the first one


def reader() -> OpenSearch:
    return engine("web")


def writer() -> OpenSearch:
    return engine("worker")


def admin() -> OpenSearch:
    return engine("admin")


def alias() -> str:
    return current_app.config["OPENSEARCH_INDEX"]


Replicas = int | str  # a fixed count, or "auto" (OPENSEARCH_REPLICAS)


def replica_settings(replicas: Replicas, name: str = "pages") -> dict[str, Any]:
    """The index settings for OPENSEARCH_REPLICAS. "auto" is the mapping file's
    `auto_expand_replicas` ("0-1"): the engine itself gives every shard one replica while the
    cluster has a second data node and drops it when only one is left, so a lone node is green
    and a node that joins gets its copy, with nobody changing a setting. A number fixes the count
    (auto-expansion off), e.g. 0 while a rebuild loads."""
    if replicas == "auto":
        mapped = _mapping(name)["settings"]["index"]["auto_expand_replicas"]
        return {"auto_expand_replicas": mapped}
    return {"number_of_replicas": int(replicas), "auto_expand_replicas": "false"}


def _mapping(name: str) -> dict[str, Any]:
    return json.loads((MAPPINGS_DIR / f"{name}.json").read_text(encoding="utf-8"))


def index_body(name: str = "pages", *, replicas: Replicas = 0) -> dict[str, Any]:
    body = copy.deepcopy(_mapping(name))
    index = body["settings"]["index"]
    index.pop("number_of_replicas", None)
    index.pop("auto_expand_replicas", None)
    index.update(replica_settings(replicas, name))
    return body


def create_versioned_index(os_client: OpenSearch, alias_name: str, *,
                           replicas: Replicas = 0) -> str:
    name = f"{alias_name}-v{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
    os_client.indices.create(index=name, body=index_body(replicas=replicas))
    return name


def alias_exists(os_client: OpenSearch, alias_name: str) -> bool:
    """Asked about the alias itself (`/<alias>/_alias/<alias>`), not across all indices: the
    engine's roles grant alias look-ups only on the project's own names."""
    return bool(os_client.indices.exists_alias(index=alias_name, name=alias_name))


def require_index(os_client: OpenSearch, alias_name: str) -> None:
    """Refuse before any work when the alias is missing: creating it is the admin's job."""
    if not alias_exists(os_client, alias_name):
        raise IndexMissingError(f"检索索引 {alias_name} 尚未建立：请运维人员先执行 "
                                "`flask --app search_app ensure-index`")


class IndexMissingError(RuntimeError):
    """The alias does not exist yet (the message says which command creates it)."""


def ensure_index(os_client: OpenSearch, alias_name: str, *, replicas: Replicas = 0) -> str:
    """The index behind `alias_name`, created (versioned, alias attached) if there is none; an
    existing one gets new mapping fields and the replica setting asked for now (an index made
    with a fixed count becomes automatic with the next `flask ensure-index`)."""
    if alias_exists(os_client, alias_name):
        name = next(iter(os_client.indices.get_alias(index=alias_name, name=alias_name)))
        add_new_fields(os_client, name)
        os_client.indices.put_settings(index=name, body={"index": replica_settings(replicas)})
        return name
    name = create_versioned_index(os_client, alias_name, replicas=replicas)
    try:
        os_client.indices.put_alias(index=name, name=alias_name)
    except Exception:
        os_client.indices.delete(index=name, ignore_unavailable=True)
        raise
    os_client.cluster.health(index=name, wait_for_status="yellow", request_timeout=35)
    return name


def add_new_fields(os_client: OpenSearch, index_name: str) -> None:
    """Fields the mapping file gained since `index_name` was built (e.g. doc_kind for the
    file-level documents), added in place: adding a field is the one mapping change an
    existing index accepts; anything else needs a rebuild and an alias swap."""
    wanted = index_body()["mappings"]["properties"]
    have = os_client.indices.get_mapping(index=index_name)[index_name]["mappings"].get(
        "properties", {})
    missing = {k: v for k, v in wanted.items() if k not in have}
    if missing:
        os_client.indices.put_mapping(index=index_name, body={"properties": missing})
    if "doc_kind" in missing:  # built before the grouped search: give every 档号 its file docs
        from search_app.search._files import backfill_file_docs
        backfill_file_docs(os_client, index_name)


def swap_alias(os_client: OpenSearch, alias_name: str, new_index: str) -> list[str]:
    """Point the alias at `new_index` atomically; returns the indices it used to point at."""
    old = list(os_client.indices.get_alias(index=alias_name, name=alias_name)) if alias_exists(
        os_client, alias_name) else []
    actions = [{"remove": {"index": i, "alias": alias_name}} for i in old]
    actions.append({"add": {"index": new_index, "alias": alias_name}})
    os_client.indices.update_aliases(body={"actions": actions})
    return old


def drop_alias_and_indices(os_client: OpenSearch, alias_name: str) -> None:
    if alias_exists(os_client, alias_name):
        for name in list(os_client.indices.get_alias(index=alias_name, name=alias_name)):
            os_client.indices.delete(index=name, ignore_unavailable=True)


def bulk_index(os_client: OpenSearch, alias_name: str, docs: Iterable[dict[str, Any]], *,
               refresh: bool | str = False) -> int:
    actions = ({"_op_type": "index", "_index": alias_name, "_id": d["doc_id"], "_source": d}
               for d in docs)
    ok, errors = helpers.bulk(os_client, actions, refresh=refresh, raise_on_error=False,
                              max_retries=3)
    if errors:
        raise RuntimeError(f"{len(errors)} documents failed to index: {errors[:3]}")
    return ok
