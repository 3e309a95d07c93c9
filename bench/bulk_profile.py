"""Where a bulk (re)index spends its time, for bench/search_bench.py --reindex.

Run on an index just loaded by the bench, before `flask reindex`'s path runs on it:

* source read: every stored document read back in doc_id order (search_after, as reindex does),
  timed alone — the copy's read side;
* Python JSON: the bulk bodies of those documents serialised (`json.dumps`, as the client does),
  and gzip-compressed as a client with `http_compress=True` would — the client's CPU per page;
* engine raw bulk: the same documents, already in memory, sent by a minimal
  `helpers.parallel_bulk` (no compression, refresh off, async translog) into a fresh index with
  the same mapping — the engine's own indexing rate, the baseline reindex is compared with;
* the same raw bulk with mapping variants (`--variants`): what each analysed field costs the
  engine, as CPU ms per page (the engine process's CPU time over the load, from node stats).

Every figure comes from the same run and the same documents; the load average is printed with
each, since the machine's 2 cores are shared.
"""
from __future__ import annotations

import copy
import gzip
import json
import os
import time
from collections.abc import Callable
from typing import Any

from opensearchpy import OpenSearch, helpers


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def engine_cpu_ms(client: OpenSearch) -> float:
    """CPU time of the engine process(es) so far (node stats), in ms."""
    nodes = client.nodes.stats(metric="process")["nodes"]
    return float(sum(n["process"]["cpu"]["total_in_millis"] for n in nodes.values()))


def read_sources(client: OpenSearch, index: str, *, chunk: int = 1000) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    after = None
    while True:
        body: dict[str, Any] = {"size": chunk, "sort": [{"doc_id": "asc"}],
                                "query": {"match_all": {}}, "track_total_hits": False}
        if after is not None:
            body["search_after"] = [after]
        hits = client.search(index=index, body=body, request_timeout=120)["hits"]["hits"]
        if not hits:
            return docs
        docs += [{"_id": h["_id"], "_source": h["_source"]} for h in hits]
        after = hits[-1]["sort"][0]


def _text(bigrams: bool) -> Any:
    def edit(props: dict[str, Any]) -> None:
        props["text"] = ({"type": "text", "analyzer": "cjk_bigram"} if bigrams
                         else {"type": "text", "index": False})
        props["text"]["fields"] = {"uni": {"type": "text", "analyzer": "cjk_unigram"}}
    return edit


def _jieba(options: str | None) -> Any:
    def edit(props: dict[str, Any]) -> None:
        props["text_jieba"] = {"type": "text", "analyzer": "pretokenized"}
        if options == "off":
            props["text_jieba"] = {"type": "text", "index": False}
        elif options:
            props["text_jieba"]["index_options"] = options
    return edit


def _no_uni(props: dict[str, Any]) -> None:
    props["text"].pop("fields", None)


# name -> edits of the shipped mapping's properties (each sets a field's state outright, so the
# variants mean the same whatever mappings/pages.json ships)
VARIANTS: dict[str, list[Any]] = {
    "text bigrams + text.uni + text_jieba with positions (before)": [_text(True), _jieba(None)],
    "text.uni + text_jieba with positions": [_text(False), _jieba(None)],
    "text.uni + text_jieba freqs only": [_text(False), _jieba("freqs")],
    "text.uni only (text_jieba not indexed)": [_text(False), _jieba("off")],
    "text_jieba freqs only (no text.uni)": [_text(False), _no_uni, _jieba("freqs")],
}


def _variant(body: dict[str, Any], name: str) -> dict[str, Any]:
    b = copy.deepcopy(body)
    for edit in VARIANTS[name]:
        edit(b["mappings"]["properties"])
    return b


def raw_bulk(client: OpenSearch, docs: list[dict[str, Any]], index_body: dict[str, Any],
             name: str, *, threads: int, chunk: int = 500,
             max_bytes: int = 10 << 20) -> tuple[float, float]:
    """(seconds, engine CPU ms) to bulk `docs` into a fresh index `name`; deleted afterwards."""
    body = copy.deepcopy(index_body)
    body["settings"]["index"].update({"refresh_interval": "-1", "number_of_replicas": 0,
                                      "translog": {"durability": "async"}})
    client.indices.create(index=name, body=body)
    try:
        cpu0, t0 = engine_cpu_ms(client), time.perf_counter()
        actions = ({"_op_type": "index", "_index": name, **d} for d in docs)
        for ok, item in helpers.parallel_bulk(client, actions, thread_count=threads,
                                              chunk_size=chunk, max_chunk_bytes=max_bytes,
                                              request_timeout=300):
            if not ok:
                raise RuntimeError(f"raw bulk refused a document: {str(item)[:300]}")
        client.indices.flush(index=name, request_timeout=300)  # the segments written, in the time
        return time.perf_counter() - t0, engine_cpu_ms(client) - cpu0
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)


def profile(client: OpenSearch, index: str, index_body: dict[str, Any], n_pages: int, *,
            threads: int, variants: bool, table: Callable[[list[list[str]], list[str]], str]
            ) -> dict[str, float]:
    """Print the profile table; returns the raw bulk rate (pages/s) and engine CPU ms/page."""
    t0 = time.perf_counter()
    docs = read_sources(client, index)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lines = [json.dumps({"index": {"_id": d["_id"]}}) + "\n"
             + json.dumps(d["_source"], ensure_ascii=False, separators=(",", ":")) + "\n"
             for d in docs]
    json_s = time.perf_counter() - t0
    raw = "".join(lines).encode()
    t0 = time.perf_counter()
    for i in range(0, len(raw), 5 << 20):
        gzip.compress(raw[i:i + (5 << 20)], compresslevel=9)
    gzip_s = time.perf_counter() - t0
    n = len(docs)
    rows = [["source read (search_after, 1 stream)", f"{read_s:.1f}", f"{n / read_s:,.0f}",
             f"{n_pages / read_s:,.0f}", "—", load_avg()],
            ["Python: json.dumps of the bulk bodies", f"{json_s:.2f}", f"{n / json_s:,.0f}",
             f"{n_pages / json_s:,.0f}", "—", load_avg()],
            ["Python: gzip level 9 (http_compress=True)", f"{gzip_s:.2f}", f"{n / gzip_s:,.0f}",
             f"{n_pages / gzip_s:,.0f}", "—", load_avg()]]
    out: dict[str, float] = {}
    names = ["as shipped (mappings/pages.json)", *(VARIANTS if variants else [])]
    for v in names:
        body = index_body if v.startswith("as shipped") else _variant(index_body, v)
        secs, cpu = raw_bulk(client, docs, body, f"{index}-raw{len(rows)}", threads=threads)
        if v.startswith("as shipped"):
            out = {"pages_per_s": n_pages / secs, "cpu_ms_per_page": cpu / n_pages}
        rows.append([f"engine raw bulk, {v}", f"{secs:.1f}", f"{n / secs:,.0f}",
                     f"{n_pages / secs:,.0f}", f"{cpu / n_pages:.2f}", load_avg()])
    print(f"\nbulk profile ({n:,} stored documents = {n_pages:,} pages + file documents, "
          f"{len(raw) / 1e6:.0f} MB of bulk body; {threads} bulk threads, chunks of 500 or "
          f"10 MB; engine CPU from node stats)")
    print(table(rows, ["stage", "s", "documents/s", "pages/s", "engine CPU ms/page",
                       "load avg"]))
    return out


def store_secrets(session, vault, client: OpenSearch, index: str) -> int:
    """A vault entry (PageSecret) for every page document of `index`, as ingest leaves it: the
    page's text encrypted (the synthetic pages carry no unmasked PII, so their display text is
    the stored text and the stored spans are empty) — what `reindex --reprepare` reads."""
    from search_app.ingest.models import PageSecret
    from search_app.ingest.secrets import encode_secret
    from indexer.types import PreparedPage

    n = 0
    for d in read_sources(client, index):
        src = d["_source"]
        if src.get("doc_kind"):
            continue
        page = PreparedPage(page_no=src["page_no"], raw_text=src["text_display"],
                            display_text=src["text_display"], search_text=src["text"],
                            jieba_text=src["text_jieba"], pii=[], source=src["text_source"],
                            confidence=src["ocr_confidence"])
        session.add(PageSecret(doc_id=d["_id"], archive_no=src["archive_no"],
                               page_no=src["page_no"], key_id=vault.current_key_id,
                               ciphertext=vault.encrypt(encode_secret(page), aad=d["_id"].encode()),
                               ocr_confidence=src["ocr_confidence"], pii_kinds=[],
                               source_sha256=src["source_sha256"], text_source=src["text_source"]))
        n += 1
        if n % 2000 == 0:
            session.commit()
    session.commit()
    return n
