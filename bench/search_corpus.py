"""Synthetic text-only pages for the search bench (bench/search_bench.py), loaded straight into a
versioned index through the product's own document builder, mapping and file-level documents.

Term statistics: words drawn from jieba's dictionary with its own frequencies (a Zipf curve over
~350k words, as real Chinese text has), mixed with archive phrases (户口迁移, 干部履历表 …) at a
higher rate, masked PII as the redaction stage leaves it (110105********1234, 张*, 138****5678),
dates and 档号 references. A file has 1–50 pages (skewed to short files); metadata spread over the
three 门类, UNITS, 1980–2023 and the four 密级. The text is generated already simplified and
half-width, so `search_text` is the display text and `jieba_text` the drawn words (what the
text stages would produce for it, without spending minutes in jieba for 100k pages).
"""
from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jieba
import numpy as np
from opensearchpy import OpenSearch, helpers

from indexer.index import build_document, build_file_documents
from indexer.pii import PiiMatch
from indexer.types import ArchiveMeta, PreparedPage
from indexer.vocab import CATEGORIES, CLASSIFICATIONS

UNITS = ("北京市公安局海淀分局", "北京市公安局朝阳分局", "北京市公安局东城分局",
         "北京市公安局西城分局", "北京市委组织部", "北京市人力资源和社会保障局",
         "北京市第一中级人民法院", "北京市海淀区人民法院")
PHRASES = ("户口迁移", "常住人口登记表", "户口登记", "迁移证明", "准迁证", "出生登记", "死亡注销",
           "干部履历表", "入党志愿书", "政审材料", "工资调整审批表", "职务任免", "奖惩情况",
           "学历证明", "判决书", "起诉书", "调解协议", "证据目录", "庭审笔录", "送达回证",
           "户籍证明", "婚姻状况", "家庭成员", "社会关系", "工作简历", "转业军人", "知青返城",
           "落户审批", "分户", "户主", "民族", "籍贯", "文化程度", "原判", "上诉人", "被上诉人")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
WORDS_PER_PAGE = (60, 420)  # drawn words; pages of about 150–1,100 characters
FILE_PAGES = np.array([1, 2, 3, 5, 8, 12, 20, 30, 50])
FILE_PAGE_P = np.array([.14, .14, .16, .16, .14, .10, .08, .05, .03])


class Vocabulary:
    """jieba's dictionary (word, frequency) as a sampler, plus the archive phrases."""

    def __init__(self, rng: np.random.Generator, *, top: int = 120_000) -> None:
        path = Path(jieba.__file__).with_name("dict.txt")
        rows = [ln.split(" ") for ln in path.read_text(encoding="utf-8").splitlines()]
        rows = sorted(((w, int(f)) for w, f, *_ in rows if f.isdigit() and not w.isascii()),
                      key=lambda r: -r[1])[:top]
        self.words = np.array([w for w, _ in rows], dtype=object)
        freq = np.array([f for _, f in rows], dtype=float)
        self.cum = np.cumsum(freq / freq.sum())
        self.rng = rng

    def draw(self, n: int) -> list[str]:
        idx = np.minimum(np.searchsorted(self.cum, self.rng.random(n)), len(self.words) - 1)
        return self.words[idx].tolist()

    def rank(self, lo: int, hi: int) -> str:
        """A word of frequency rank in [lo, hi): queries pick rare, mid and common words."""
        return str(self.words[int(self.rng.integers(lo, min(hi, len(self.words))))])


def _id_number(r: random.Random) -> str:
    return (f"1101{r.randint(10, 99)}{r.randint(1950, 2004)}{r.randint(1, 12):02d}"
            f"{r.randint(1, 28):02d}{r.randint(100, 999)}{r.randint(0, 9)}")


def page_words(vocab: Vocabulary, r: random.Random) -> tuple[list[str], list[str]]:
    """(tokens as written, tokens the jieba field gets): dictionary words, archive phrases, masked
    PII as the redaction stage leaves it, dates."""
    words = vocab.draw(r.randint(*WORDS_PER_PAGE))
    out: list[str] = []
    jieba_tokens: list[str] = []
    for i, w in enumerate(words):
        out.append(w)
        jieba_tokens.append(w)
        x = r.random()
        if x < 0.06:
            p = PHRASES[r.randrange(len(PHRASES))]
            out.append(p)
            jieba_tokens.append(p)
        elif x < 0.065:
            d = f"{r.randint(1950, 2023)}年{r.randint(1, 12)}月{r.randint(1, 28)}日"
            out.append(d)
            jieba_tokens.append(d)
        elif x < 0.068:
            out.append(f"{SURNAMES[r.randrange(len(SURNAMES))]}*")
        elif x < 0.070:
            out.append(f"110105********{r.randint(1000, 9999)}")
        elif x < 0.071:
            out.append(f"138****{r.randint(1000, 9999)}")
        if i % 17 == 16:
            out.append("，" if r.random() < .8 else "。\n")
    return out, jieba_tokens


def files(n_pages: int, *, seed: int, blind_index) -> Iterator[list[dict[str, Any]]]:
    """The page documents of one file at a time, n_pages in all, deterministic for `seed`."""
    rng = np.random.default_rng(seed)
    r = random.Random(seed)
    vocab = Vocabulary(rng)
    made, k = 0, 0
    while made < n_pages:
        count = int(min(rng.choice(FILE_PAGES, p=FILE_PAGE_P), n_pages - made))
        cat = str(CATEGORIES[int(rng.integers(len(CATEGORIES)))])
        year = int(rng.integers(1980, 2024))
        meta = ArchiveMeta(
            archive_no=f"B{k // 1000:03d}-{year}-{k:07d}", category=cat,
            title=f"{PHRASES[int(rng.integers(len(PHRASES)))]}{vocab.rank(200, 20000)}卷",
            unit=str(UNITS[int(rng.integers(len(UNITS)))]), year=year,
            classification=str(rng.choice(CLASSIFICATIONS, p=[.3, .45, .2, .05])), file="-",
            subject_name=f"{SURNAMES[int(rng.integers(len(SURNAMES)))]}某",
            subject_id=_id_number(r) if r.random() < .5 else "")
        docs = []
        for no in range(1, count + 1):
            written, tokens = page_words(vocab, r)
            text = "".join(written)
            pii = []
            if r.random() < .3:
                v = _id_number(r)
                pii.append(PiiMatch("id_number", 0, 18, v))
            page = PreparedPage(page_no=no, raw_text=text, display_text=text, search_text=text,
                                jieba_text=" ".join(tokens), pii=pii, source="ocr",
                                confidence=r.uniform(55, 95))
            docs.append(build_document(meta, page, title=meta.title, page_count=count,
                                       blind_index=blind_index, source_sha256=f"{k:064x}",
                                       ingest_file_id=None))
        made += count
        k += 1
        yield docs


def actions(index: str, n_pages: int, *, seed: int, blind_index) -> Iterator[dict[str, Any]]:
    for docs in files(n_pages, seed=seed, blind_index=blind_index):
        for d in [*docs, *build_file_documents(docs)]:
            yield {"_op_type": "index", "_index": index, "_id": d["doc_id"], "_source": d}


def load(client: OpenSearch, index: str, n_pages: int, *, seed: int, blind_index,
         threads: int = 2, chunk: int = 500, echo=print) -> dict[str, float]:
    """Bulk-load n_pages (and their file documents) into `index` with refresh off; returns
    timings. The index is refreshed and force-merged to one segment per shard afterwards, as
    `flask reindex` leaves it."""
    client.indices.put_settings(index=index, body={"index": {
        "refresh_interval": "-1", "translog": {"durability": "async"}}})
    started, done = time.monotonic(), 0
    for ok, item in helpers.parallel_bulk(client, actions(index, n_pages, seed=seed,
                                                          blind_index=blind_index),
                                          thread_count=threads, chunk_size=chunk,
                                          max_chunk_bytes=10 << 20, raise_on_error=True,
                                          request_timeout=120):
        done += 1
        if done % 20000 == 0:
            echo(f"  loaded {done} documents, {done / (time.monotonic() - started):.0f}/s")
    load_s = time.monotonic() - started
    client.indices.put_settings(index=index, body={"index": {
        "refresh_interval": "1s", "translog": {"durability": "request"}}})
    client.indices.refresh(index=index, request_timeout=300)
    t = time.monotonic()
    client.indices.forcemerge(index=index, max_num_segments=1, request_timeout=1800)
    client.indices.refresh(index=index, request_timeout=300)  # the merged segment in the stats
    return {"documents": done, "load_s": load_s, "merge_s": time.monotonic() - t}
