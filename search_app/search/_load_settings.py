"""The settings a versioned index loads under during `flask reindex` (search_app.search.reindex)
and the settings that undo them before the alias swap."""
from __future__ import annotations

from typing import Any

from search_app.search._backend import Replicas, index_body, replica_settings

__all__ = ["loaded_settings", "loading_settings"]

# While loading: no refresh, and the translog fsynced every few seconds instead of per bulk
# request. An engine crash may then lose the last seconds of acknowledged writes, which the
# checkpoint already counted: the document count check before the swap catches that (the run
# fails, deletes the index, and is run again). Restored to per-request durability at the end.
# Merges while loading are wasted work: the force-merge at the end rewrites every segment into
# one anyway. So the load merges little (many segments per tier, one merge thread) and commits
# rarely (a large translog before a flush); reset to the index's defaults with the durability.
LOAD_MERGE: dict[str, Any] = {"merge": {"scheduler": {"max_thread_count": 1},
                                        "policy": {"segments_per_tier": 100,
                                                   "max_merge_at_once": 100}},
                              "translog": {"flush_threshold_size": "2gb"}}
LOADING = {"refresh_interval": "-1", "translog": {"durability": "async"}}


def loading_settings() -> dict[str, Any]:
    """The new index's settings while it loads (LOADING and LOAD_MERGE)."""
    return {"refresh_interval": LOADING["refresh_interval"], "merge": LOAD_MERGE["merge"],
            "translog": {**LOADING["translog"], **LOAD_MERGE["translog"]}}


def loaded_settings(replicas: Replicas) -> dict[str, Any]:
    """What the load changed, back to the mapping file's values or the engine's defaults (a
    null resets a setting), with the replicas asked for."""
    shipped = index_body()["settings"]["index"]

    def back(changed: dict[str, Any], ship: dict[str, Any]) -> dict[str, Any]:
        return {k: back(v, ship.get(k) or {}) if isinstance(v, dict) else ship.get(k)
                for k, v in changed.items()}

    out = back(loading_settings(), shipped)
    out["translog"]["durability"] = shipped.get("translog", {}).get("durability", "request")
    out["refresh_interval"] = shipped["refresh_interval"]
    return {**out, **replica_settings(replicas)}
