"""What each field of mappings/pages.json costs on disk: the same synthetic pages
(bench/search_corpus.py) built into one index per mapping variant, force-merged to one segment,
primary store size compared with the full mapping.

    nice .venv/bin/python bench/index_size_bench.py [--pages 2000]

OpenSearch 2.x has no `_disk_usage` API (an Elasticsearch 7.15+ addition), so a field's cost is
measured as the difference it makes: the variant without it (left out of the mapping and of the
documents, or not kept in `_source`). Indices are `test-pages-<hex>-v…` (the engine's test
names, admin identity), deleted at the end.
"""
from __future__ import annotations

import copy
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search_corpus  # noqa: E402
from opensearchpy import helpers  # noqa: E402


def _variants(body: dict[str, Any]) -> dict[str, tuple[dict[str, Any], list[str], list[str]]]:
    """name -> (index body, fields dropped from the documents, fields excluded from _source)."""
    def without(path: str) -> dict[str, Any]:
        b = copy.deepcopy(body)
        props = b["mappings"]["properties"]
        if "." in path:
            top, sub = path.split(".")
            del props[top]["fields"][sub]
        elif props[path].get("fields"):  # a multi-field's parent: not indexed, sub-fields kept
            props[path]["index"] = False
        else:
            del props[path]
        return b

    src = copy.deepcopy(body)
    src["mappings"]["_source"] = {"excludes": ["text", "text_jieba"]}
    return {
        "full mapping (as shipped)": (body, [], []),
        "without text.uni (unigram phrases)": (without("text.uni"), [], []),
        "without text's bigram terms (index: false)": (without("text"), [], []),
        "without text_jieba": (without("text_jieba"), ["text_jieba"], []),
        "without text_display (_source copy)": (without("text_display"), ["text_display"], []),
        "text, text_jieba not in _source": (src, [], ["text", "text_jieba"]),
    }


def main() -> int:
    import argparse

    from search_bench import settings
    from search_app import create_app
    from search_app.crypto import vault_from_config
    from search_app.search._backend import admin, index_body

    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    import tempfile
    cfg = settings(Path(tempfile.mkdtemp(prefix="sizebench-")))
    app = create_app(cfg)
    with app.app_context():
        client, blind = admin(), vault_from_config(app.config).blind_index
        docs = [d for f in search_corpus.files(args.pages, seed=args.seed, blind_index=blind)
                for d in [*f, *search_corpus.build_file_documents(f)]]
        rows, base = [], None
        for name, (body, dropped, _) in _variants(index_body()).items():
            index = f"test-pages-{uuid.uuid4().hex[:8]}-v1"
            client.indices.create(index=index, body=body)
            try:
                acts = ({"_index": index, "_id": d["doc_id"],
                         "_source": {k: v for k, v in d.items() if k not in dropped}} for d in docs)
                helpers.bulk(client, acts, chunk_size=500, request_timeout=120)
                client.indices.refresh(index=index)
                client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=600)
                client.indices.refresh(index=index)
                size = client.indices.stats(index=index, metric="store")["indices"][index][
                    "primaries"]["store"]["size_in_bytes"]
            finally:
                client.indices.delete(index=index, ignore_unavailable=True)
            base = base or size
            rows.append((name, size, size / args.pages, base - size))
            print(f"{name:48s} {size / 1e6:8.1f} MB {size / args.pages:8.0f} B/page "
                  f"field costs {(base - size) / args.pages:7.0f} B/page "
                  f"({(base - size) / base:5.1%})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
