"""The OpenSearch client (built once per app) and index administration.

Indices are versioned (`<alias>-v<timestamp>`) behind an alias; a rebuild creates a fresh index,
loads it, and swaps the alias, deleting the half-built index if anything fails.
"""
from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from opensearchpy import OpenSearch, helpers

MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "mappings"


def init_app(app: Flask) -> None:
    app.extensions["opensearch"] = make_client(app.config["OPENSEARCH_URL"],
                                               timeout=app.config["OPENSEARCH_TIMEOUT"])


def make_client(url: str, *, timeout: int = 30) -> OpenSearch:
    return OpenSearch(hosts=[url], timeout=timeout, max_retries=2, retry_on_timeout=True,
                      http_compress=True)


def client() -> OpenSearch:
    return current_app.extensions["opensearch"]


def alias() -> str:
    return current_app.config["OPENSEARCH_INDEX"]


def index_body(name: str = "pages", *, replicas: int = 0) -> dict[str, Any]:
    body = json.loads((MAPPINGS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    body = copy.deepcopy(body)
    body["settings"]["index"]["number_of_replicas"] = replicas
    return body


def create_versioned_index(os_client: OpenSearch, alias_name: str, *, replicas: int = 0) -> str:
    name = f"{alias_name}-v{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 1_000_000:06d}"
    os_client.indices.create(index=name, body=index_body(replicas=replicas))
    return name


def ensure_index(os_client: OpenSearch, alias_name: str, *, replicas: int = 0) -> str:
    """The index behind `alias_name`, created (versioned, alias attached) if there is none."""
    if os_client.indices.exists_alias(name=alias_name):
        return next(iter(os_client.indices.get_alias(name=alias_name)))
    name = create_versioned_index(os_client, alias_name, replicas=replicas)
    try:
        os_client.indices.put_alias(index=name, name=alias_name)
    except Exception:
        os_client.indices.delete(index=name, ignore_unavailable=True)
        raise
    os_client.cluster.health(index=name, wait_for_status="yellow", request_timeout=35)
    return name


def swap_alias(os_client: OpenSearch, alias_name: str, new_index: str) -> list[str]:
    """Point the alias at `new_index` atomically; returns the indices it used to point at."""
    old = list(os_client.indices.get_alias(name=alias_name)) if os_client.indices.exists_alias(
        name=alias_name) else []
    actions = [{"remove": {"index": i, "alias": alias_name}} for i in old]
    actions.append({"add": {"index": new_index, "alias": alias_name}})
    os_client.indices.update_aliases(body={"actions": actions})
    return old


def drop_alias_and_indices(os_client: OpenSearch, alias_name: str) -> None:
    if os_client.indices.exists_alias(name=alias_name):
        for name in list(os_client.indices.get_alias(name=alias_name)):
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
