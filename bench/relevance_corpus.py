"""The generated corpus of bench/relevance_bench.py: multi-page files with known answers.

Words are 2-character entries of jieba's dictionary, drawn at random with a fixed seed into two
disjoint pools (filler, answers), so the queries are not written to suit the implementation.
Each planted answer records its query kind and its known target; pages that OCR "misread" keep
their printed text here and a one-character-different text for the index.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

from indexer.types import ArchiveMeta

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
        from opencc import OpenCC
        self.s2t = OpenCC("s2t")

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
            if no not in trad:  # typed in traditional script, page in simplified
                self.queries.append(Q("trad_query", self.s2t.convert(phr), f"{no}#p{pg:04d}"))
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
            self.queries.append(Q("ocr_slip", f'"{slip}"' if r.random() < 0.3 else slip,
                                  f"{no}#p{pg:04d}"))
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
