"""Replica count from the cluster, not by hand: OPENSEARCH_REPLICAS=auto (the default) makes the
index with the mapping file's `auto_expand_replicas` ("0-1"), so the engine keeps one replica
while a second data node is there and none on a lone node. Here the settings themselves (unit)
and the local single node (integration: green, no replica, and an index made with a fixed count
turned automatic by ensure-index). The two-node half is in tests/test_cluster_failover.py."""
from __future__ import annotations

import json
import uuid

import pytest

from search_app.config import ConfigError, load_settings
from search_app.search._backend import (MAPPINGS_DIR, drop_alias_and_indices, ensure_index,
                                        index_body, make_client, replica_settings)


@pytest.mark.parametrize("name", ["pages", "audit_checkpoints"])
def test_mapping_files_expand_replicas_to_the_data_nodes(name):
    index = json.loads((MAPPINGS_DIR / f"{name}.json").read_text("utf-8"))["settings"]["index"]
    assert index.get("auto_expand_replicas") == "0-1", (
        f"mappings/{name}.json fixes the replica count by hand: {index}")
    auto = index_body(name, replicas="auto")["settings"]["index"]
    assert auto["auto_expand_replicas"] == "0-1" and "number_of_replicas" not in auto, auto


@pytest.mark.parametrize("fixed", [0, 2])
def test_a_fixed_count_turns_auto_expansion_off(fixed):
    index = index_body(replicas=fixed)["settings"]["index"]
    assert index["number_of_replicas"] == fixed and index["auto_expand_replicas"] == "false", (
        f"OPENSEARCH_REPLICAS={fixed} left auto-expansion on: {index}")
    assert replica_settings(fixed) == {"number_of_replicas": fixed, "auto_expand_replicas": "false"}


def _load(raw: str | None, settings: dict) -> dict:
    env = {k: str(v) for k, v in settings.items() if isinstance(v, str)}
    if raw is not None:
        env["OPENSEARCH_REPLICAS"] = raw
    return load_settings(env=env)


def test_replicas_setting_defaults_to_auto_and_refuses_nonsense(settings):
    assert _load(None, settings)["OPENSEARCH_REPLICAS"] == "auto"
    assert _load("AUTO", settings)["OPENSEARCH_REPLICAS"] == "auto"
    assert _load("1", settings)["OPENSEARCH_REPLICAS"] == 1
    for bad in ("-1", "one", "0-1"):
        with pytest.raises(ConfigError, match="OPENSEARCH_REPLICAS must be 'auto'"):
            _load(bad, settings)


@pytest.mark.integration
def test_single_node_index_is_green_without_a_replica_and_becomes_automatic(app, settings):
    client = make_client(app.config, "admin")
    alias = f"test-pages-{uuid.uuid4().hex[:8]}"
    try:
        name = ensure_index(client, alias, replicas=0)  # made the old way: a fixed count
        index = client.indices.get_settings(index=name)[name]["settings"]["index"]
        assert index.get("auto_expand_replicas") == "false", index
        assert ensure_index(client, alias, replicas="auto") == name
        index = client.indices.get_settings(index=name)[name]["settings"]["index"]
        assert index.get("auto_expand_replicas") == "0-1", (
            f"ensure-index left the existing index's replicas fixed: {index}")
        health = client.cluster.health(index=name, wait_for_status="green", request_timeout=60)
        assert health["status"] == "green" and health["unassigned_shards"] == 0, (
            f"one node with auto replicas is not green: {health}")
        assert health["number_of_data_nodes"] == 1, f"the local engine is not one node: {health}"
        index = client.indices.get_settings(index=name)[name]["settings"]["index"]
        assert index["number_of_replicas"] == "0", f"a lone node was given a replica: {index}"
    finally:
        drop_alias_and_indices(client, alias)
