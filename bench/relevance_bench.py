"""Known-item relevance of the product's search: recall@10 and MRR per query kind.

    TEST_REDIS_DB=5 .venv/bin/python bench/relevance_bench.py [--files 80] [--seed 7] [--show 3]

A generated corpus of multi-page files (text-only pages; a quarter of the files in traditional
script; some pages whose OCR text differs from the printed text by one character) goes through
the product's own path: indexer.pipeline.prepare (PII detection, redaction, width and
traditional→simplified folding, jieba), indexer.index.build_document, bulk indexing, and the
file-level documents of search_app.search._files — into a throw-away index of the running
engine (`test-pages-<hex>`, dropped at the end). Every query runs through search_pages (the
choke point, with a grant covering the whole corpus, audited into a throw-away database).

Query kinds (each query has one known answer: a page for flat kinds, a file for grouped ones):
phrase (quoted and unquoted), words2/words3 (words spread over pages of one file, group=file),
archive_no (档号:X, bare X, prefix + word), year (年度:Y word, bare Y word), or, not,
traditional (simplified query, traditional page), ocr_slip (printed phrase, one character
misread in the index), and none (queries that must find nothing: false-hit rate). Extra checks:
slip_below_exact (the exact page ranks above the misread one) and not_leak (a NOT query
returning a page holding the excluded word). Words are drawn from jieba's dictionary at random
(fixed seed), so queries are not tuned to the implementation; answers that redaction changed
are dropped and counted.
Targets: recall@10 >= 98 % for every kind, MRR >= 0.95, false-hit rate 0.
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import re
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.index import build_document  # noqa: E402
from indexer.normalise import for_search  # noqa: E402
from indexer.pipeline import prepare  # noqa: E402
from indexer.types import ArchiveMeta, PageText  # noqa: E402

CJK = re.compile(r"^[\u4e00-\u9fff]+$")
SERIES = {"户籍档案": "HJ", "干部人事档案": "RS", "电子卷宗": "JZ"}
UNIT = "北京市公安局海淀分局"
FILLER_POS = {"n", "v", "vn", "a", "d"}


@dataclass
class Q:
    kind: str
    text: str
    target: str  # page doc id (flat) or 档号 (grouped); "" for kind none
    group: str = "page"
    also: str = ""  # slip_below_exact: the misread page that must rank below the target
    banned: str = ""  # not: a word no returned page may hold


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    """(filler words, answer words): two disjoint samples of 2-character dictionary words."""
    import jieba
    path = Path(jieba.__file__).with_name("dict.txt")
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        w, freq, pos = line.split(" ")
        if len(w) == 2 and CJK.match(w) and pos in FILLER_POS and 300 <= int(freq) <= 20000:
            words.append(w)
    words = sorted(set(words))
    rng.shuffle(words)
    return words[:400], words[400:4400]


class Corpus:
    def __init__(self, rng: random.Random, files: int) -> None:
        self.rng = rng
        self.filler, self.pool = vocabulary(rng)
        self.pages: dict[str, list[str]] = {}  # 档号 -> printed page texts
        self.slips: dict[tuple[str, int], list[str]] = {}  # printed phrases OCR misreads
        self.ocr: dict[tuple[str, int], str] = {}  # (档号, page) -> OCR text when it differs
        self.meta: dict[str, ArchiveMeta] = {}
        self.queries: list[Q] = []
        self.files = files

    def word(self) -> str:
        return self.pool.pop()

    def phrase(self, n_words: int) -> str:
        return "".join(self.word() for _ in range(n_words))

    def filler_text(self, sentences: int) -> str:
        r = self.rng
        return "".join("".join(r.sample(self.filler, r.randint(3, 6))) + r.choice("，。；")
                       for _ in range(sentences))

    def plant(self, no: str, page: int, text: str) -> None:
        body = self.pages[no][page - 1]
        cut = self.rng.randrange(len(body) // 2)
        while cut and body[cut - 1] not in "，。；":
            cut -= 1
        self.pages[no][page - 1] = body[:cut] + text + "。" + body[cut:]

    def build(self) -> None:
        r = self.rng
        cats = list(SERIES)
        for i in range(self.files):
            cat, year = cats[i % 3], 2001 + r.randrange(22)
            no = f"{SERIES[cat]}-{year}-{i:04d}"
            self.meta[no] = ArchiveMeta(archive_no=no, title=f"{cat}第{i}卷", category=cat,
                                        unit=UNIT, year=year, classification="内部",
                                        file=f"{no}.pdf")
            self.pages[no] = [self.filler_text(r.randint(6, 12)) for _ in range(r.randint(3, 7))]
        nos = list(self.pages)
        trad = set(r.sample(nos, len(nos) // 4))
        for no in nos:
            n = len(self.pages[no])
            p = lambda: r.randint(1, n)  # noqa: E731
            parts = [self.word() for _ in range(r.choice((2, 3)))]
            phr = "".join(parts)
            pg = p()
            self.plant(no, pg, phr)
            # distractors: its words apart on other files, and the phrase one character off
            for w in parts:
                for x in r.sample(nos, 2):
                    if x != no:
                        self.plant(x, r.randint(1, len(self.pages[x])), w)
            x = r.choice([y for y in nos if y != no])
            i = r.randrange(len(phr))
            self.plant(x, r.randint(1, len(self.pages[x])),
                       phr[:i] + r.choice(self.filler)[0] + phr[i + 1:])
            kind = "traditional" if no in trad else "phrase"
            self.queries.append(Q(kind, f'"{phr}"' if r.random() < 0.5 else phr, f"{no}#p{pg:04d}"))
            self.queries.append(Q(kind, phr, no, group="file"))
            # words spread over pages of this file; each word alone in another file too
            for k in (2, 3):
                ws, pages = [self.word() for _ in range(k)], r.sample(range(1, n + 1), min(k, n))
                for w, pg2 in zip(ws, pages * 2):
                    self.plant(no, pg2, w)
                for other in r.sample([x for x in nos if x != no], 4):  # all words but one
                    for w in r.sample(ws, k - 1):
                        self.plant(other, r.randint(1, len(self.pages[other])), w)
                self.queries.append(Q(f"words{k}", " ".join(ws), no, group="file"))
            # OCR slip: printed phrase of 5-8 characters, one character misread in the index
            slip = self.phrase(3)[: r.randint(5, 6)]
            pg = p()
            self.plant(no, pg, slip)
            self.slips.setdefault((no, pg), []).append(slip)
            self.queries.append(Q("ocr_slip", slip, f"{no}#p{pg:04d}"))
            # OR: the answer's phrase or a phrase found nowhere
            absent = self.phrase(2)
            self.queries.append(Q("or", f"{absent} OR {phr}" if r.random() < 0.5
                                  else f"{phr} OR {absent}", f"{no}#p{self._page_of(no, phr)}"))
        self._shared_word_kinds(nos)
        self._slip_vs_exact(nos)
        self._misread()
        every = "\n".join(t for pages in self.pages.values() for t in pages)
        for _ in range(len(nos)):
            # words found nowhere, and (harder) common words in an order found nowhere, not
            # even with one character off: bigram pieces of them are on many pages
            self.queries.append(Q("none", self.phrase(3)[: r.randint(5, 6)], ""))
            self.queries.append(Q("none", " ".join(self.word() for _ in range(2)), "", group="file"))
            hard = "".join(r.sample(self.filler, 3))[: r.randint(5, 6)]
            if not near(every, hard):
                self.queries.append(Q("none", hard, ""))
                self.queries.append(Q("none", hard, "", group="file"))

    def _page_of(self, no: str, text: str) -> str:
        return next(f"{i:04d}" for i, t in enumerate(self.pages[no], 1) if text in t)

    def _shared_word_kinds(self, nos: list[str]) -> None:
        """archive_no, year and not: a word on several files; the filter or NOT picks one."""
        r = self.rng
        for no in nos:
            others = r.sample([x for x in nos if x != no and x[3:7] != no[3:7]], 4)
            w = self.word()
            for x in [no, *others]:
                self.plant(x, r.randint(1, len(self.pages[x])), w)
            year, prefix = no[3:7], no[:7]
            self.queries.append(Q("archive_no", r.choice([f"档号:{no}", no, f"{no} {w}"]), no,
                                  group="file"))
            self.queries.append(Q("archive_no", f"{prefix} {w}", no, group="file"))
            self.queries.append(Q("year", r.choice([f"年度:{year} {w}", f"{year} {w}"]), no,
                                  group="file"))
            # NOT: c on the answer page and on 3 other pages that also hold d
            c, d = self.word(), self.word()
            pg = r.randint(1, len(self.pages[no]))
            self.plant(no, pg, c)
            for x in others[:3]:
                xp = r.randint(1, len(self.pages[x]))
                self.plant(x, xp, c)
                self.plant(x, xp, d)
            self.queries.append(Q("not", r.choice([f"{c} -{d}", f"{c} NOT {d}"]),
                                  f"{no}#p{pg:04d}", banned=d))

    def _slip_vs_exact(self, nos: list[str]) -> None:
        r = self.rng
        for no in r.sample(nos, len(nos) // 2):
            other = r.choice([x for x in nos if x != no])
            phr, pa, pb = self.phrase(3)[:6], r.randint(1, len(self.pages[no])), \
                r.randint(1, len(self.pages[other]))
            self.plant(no, pa, phr)
            self.plant(other, pb, phr)
            self.slips.setdefault((other, pb), []).append(phr)
            self.queries.append(Q("slip_below_exact", phr, f"{no}#p{pa:04d}",
                                  also=f"{other}#p{pb:04d}"))

    def _misread(self) -> None:
        """Replace one character of each slip phrase on its page: the OCR text of that page."""
        r = self.rng
        chars = "".join(self.filler)
        for (no, pg), phrases in self.slips.items():
            text = self.pages[no][pg - 1]
            for phr in phrases:
                i = r.randrange(len(phr))
                wrong = r.choice([c for c in chars if c not in phr])
                text = text.replace(phr, phr[:i] + wrong + phr[i + 1:], 1)
            self.ocr[(no, pg)] = text


def near(text: str, phrase: str) -> bool:
    """Whether `text` holds `phrase` with at most one character wrong, missing or extra (what
    counts as a real match of a 5+ character word; such a none-query would not be one)."""
    for i in range(len(phrase)):
        v = phrase[:i] + phrase[i + 1:]
        alts = [re.escape(v)] + [re.escape(v[:j]) + "." + re.escape(v[j:]) for j in range(1, len(v))]
        if re.search("|".join(alts), text):
            return True
    return False


def settings() -> dict:
    from search_app.config import read_env_file, setting_names
    local = {**read_env_file(ROOT / "var" / "local.env"),
             **{k: v for k, v in os.environ.items() if k in setting_names()}}
    engine = {k: v for k, v in local.items() if k in ("OPENSEARCH_URL", "OPENSEARCH_CA_CERTS")
              or re.fullmatch(r"OPENSEARCH_\w+_(USER|PASSWORD)", k)}
    tmp = Path(tempfile.mkdtemp(prefix="relbench-"))
    key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()  # noqa: E731
    redis = re.sub(r"/\d*$", "", local.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return {"SECRET_KEY": key(), "ARCHIVE_DATA_KEY": key(), "ARCHIVE_BLIND_INDEX_KEY": key(),
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", **engine,
            "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
            "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
            "REDIS_URL": f"{redis}/{int(os.environ.get('TEST_REDIS_DB', '15'))}",
            "BLOB_DIR": str(tmp / "blobs"), "INGEST_UPLOAD_DIR": str(tmp / "uploads"),
            "AUDIT_CHECKPOINT_FILE": str(tmp / "cp.log"), "TESTING": True}


def index_corpus(corpus: Corpus, vault) -> tuple[int, dict[str, str]]:
    """Index every page through the pipeline; returns (pages, search text by page id)."""
    from opencc import OpenCC

    from search_app.search._backend import alias, bulk_index, writer
    from search_app.search._files import refresh_file_docs
    s2t = OpenCC("s2t")
    trad = {q.target.split("#")[0] for q in corpus.queries if q.kind == "traditional"}
    docs, texts = [], {}
    for no, pages in corpus.pages.items():
        meta = corpus.meta[no]
        for n, printed in enumerate(pages, 1):
            raw = corpus.ocr.get((no, n), printed)
            raw = s2t.convert(raw) if no in trad else raw
            prepared = prepare(PageText(page_no=n, text=raw, source="ocr", confidence=90.0), meta)
            doc = build_document(meta, prepared, title=meta.title, page_count=len(pages),
                                 blind_index=vault.blind_index, source_sha256="0" * 64,
                                 ingest_file_id=None)
            docs.append(doc)
            texts[doc["doc_id"]] = doc["text"]
    bulk_index(writer(), alias(), docs, refresh=True)
    for no in corpus.pages:
        refresh_file_docs(no)
    return len(docs), texts


def answerable(q: Q, texts: dict[str, str]) -> bool:
    """The planted answer survived redaction/folding (else the query is dropped, counted)."""
    if q.kind in ("none", "slip_below_exact") or q.group == "file":
        return True
    toks = q.text.split()
    words = [w.strip('"') for i, w in enumerate(toks) if w not in ("OR", "NOT")
             and not w.startswith("-") and (i == 0 or toks[i - 1] != "NOT")]
    if q.kind == "or":
        words = [w for w in words if w in texts[q.target]][:1] or words
    if q.kind == "ocr_slip":
        return True
    return all(for_search(w) in texts[q.target] for w in words)


def run(args: argparse.Namespace) -> int:
    from search_app import create_app
    from search_app.accounts.services import create_user
    from search_app.crypto import vault_from_config
    from search_app.db import get_session
    from search_app.grants.services import Scope, create_grant
    from search_app.migrations import upgrade
    from search_app.search import search_pages
    from search_app.search._backend import admin, drop_alias_and_indices, ensure_index

    rng = random.Random(args.seed)
    corpus = Corpus(rng, args.files)
    corpus.build()
    cfg = settings()
    app = create_app(cfg)
    upgrade(cfg["DATABASE_URL"])
    with app.app_context():
        ensure_index(admin(), cfg["OPENSEARCH_INDEX"])
        try:
            return _measure(args, corpus, app, create_user, create_grant, Scope, get_session,
                            search_pages, vault_from_config(app.config))
        finally:
            drop_alias_and_indices(admin(), cfg["OPENSEARCH_INDEX"])
            admin().indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)


def _measure(args, corpus, app, create_user, create_grant, Scope, get_session, search_pages,
             vault) -> int:
    t0 = time.monotonic()
    n_pages, texts = index_corpus(corpus, vault)
    indexed = time.monotonic() - t0
    session = get_session()
    users = [create_user(session, username=f"bench-{role}{i}", password="bench-password-1",
                         role=role, unit=UNIT) for i, role in enumerate(("staff", "approver", "approver"))]
    session.commit()
    grant = create_grant(session, user=users[0], approver=users[1], second_approver=users[2],
                         purpose="检索效果评测", hours=8, scope=Scope(list(SERIES), [UNIT], "机密", []))
    session.commit()
    stats: dict[str, dict[str, float]] = {}
    dropped, shown = 0, {}
    t1 = time.monotonic()
    for q in corpus.queries:
        if not answerable(q, texts):
            dropped += 1
            continue
        out = search_pages(user=users[0], grant_id=grant.id, purpose="检索效果评测", query=q.text,
                           page_size=10, group=q.group)
        ranked = ([f.archive_no for f in out.files] if q.group == "file"
                  else [h.doc_id for h in out.hits])
        name = q.kind if q.kind in ("none", "slip_below_exact") else f"{q.kind}/{q.group}"
        s = stats.setdefault(name, {"n": 0, "hit": 0, "rr": 0.0})
        s["n"] += 1
        ok = False
        if q.kind == "none":
            ok = out.total == 0
        elif q.kind == "slip_below_exact":
            ok = q.target in ranked and q.also in ranked and ranked.index(q.target) < ranked.index(q.also)
        else:
            rank = ranked.index(q.target) + 1 if q.target in ranked else 0
            ok = bool(rank)
            s["rr"] += 1 / rank if rank else 0
            if q.banned:
                leak = [d for d in ranked if for_search(q.banned) in texts.get(d, "")]
                s["leak"] = s.get("leak", 0) + bool(leak)
        s["hit"] += ok
        if not ok and shown.get(name, 0) < args.show:
            shown[name] = shown.get(name, 0) + 1
            print(f"  miss [{name}] {q.text!r} → want {q.target or 'nothing'}"
                  f"{' above ' + q.also if q.also else ''}; got {ranked[:5]} (total {out.total})")
    searched = time.monotonic() - t1
    n_q = sum(s["n"] for s in stats.values())
    print(f"\ncorpus: {len(corpus.pages)} files, {n_pages} pages (indexed in {indexed:.1f} s); "
          f"{n_q} queries in {searched:.1f} s ({1000 * searched / max(n_q, 1):.0f} ms each); "
          f"{dropped} dropped (answer changed by redaction)")
    print(f"{'kind':<22}{'n':>5}{'recall@10':>11}{'MRR':>8}  note")
    failed = False
    for name in sorted(stats):
        s = stats[name]
        rate = s["hit"] / s["n"]
        if name == "none":
            print(f"{name:<22}{s['n']:>5}{'':>11}{'':>8}  false-hit rate {1 - rate:.1%}")
            failed |= rate < 1
            continue
        if name == "slip_below_exact":
            print(f"{name:<22}{s['n']:>5}{'':>11}{'':>8}  exact above misread: {rate:.1%}")
            failed |= rate < 0.98
            continue
        mrr = s["rr"] / s["n"]
        note = f"NOT leaks {int(s.get('leak', 0))}" if "leak" in s else ""
        print(f"{name:<22}{s['n']:>5}{rate:>10.1%}{mrr:>8.3f}  {note}")
        failed |= rate < 0.98 or mrr < 0.95 or bool(s.get("leak"))
    print("targets met" if not failed else "TARGETS MISSED")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=80)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--show", type=int, default=3, help="misses to print per kind")
    return run(ap.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
