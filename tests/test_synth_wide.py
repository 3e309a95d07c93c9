"""The wide pages (tests.synth.forms templates, tests.synth.wide formats) have true labels, and
the old pages did not move.

The benchmarks score detectors strictly against these labels (exact span as printed), so each
label must be the printed characters, every kind and every new format must occur, and a seed
that gave a page before gives the same page now (benches and tests compare runs by seed).
Fast unit tests (no OCR, no services).
"""
from __future__ import annotations

import hashlib
import random
import re

import numpy as np
import pytest

from tests.synth.corpus import WIDE_SHARE, file_bytes, is_wide, make_entry
from tests.synth.forms import WIDE_TEMPLATES
from tests.synth.records import MORE_TEMPLATES
from tests.synth.pdf import text_layer_page
from tests.synth.people import id_is_valid, luhn_ok
from tests.synth.scan import scanned_page
from tests.synth.templates import KINDS, page_text

_FOLD = str.maketrans("０１２３４５６７８９x×", "0123456789XX")


def _docs(count: int = 60, **kw):
    return [page_text(random.Random(1000 + s), wide=True, **kw)[1] for s in range(count)]


@pytest.fixture(scope="module")
def docs():
    return _docs() + _docs(20, traditional=True)


def _digits(value: str) -> str:
    return re.sub(r"[^0-9X]", "", value.translate(_FOLD))


def test_every_label_is_the_printed_text(docs) -> None:
    for d in docs:
        for lab in d.labels:
            assert d.text[lab.start:lab.end] == lab.value, f"{lab.kind} {lab.value!r} not at its span"
            assert lab.value == lab.value.strip(), f"{lab.kind} {lab.value!r} has padding in its span"
            assert lab.kind in KINDS


def test_every_kind_and_template_occurs() -> None:
    seen_kinds, seen_templates = set(), set()
    for name in {**WIDE_TEMPLATES, **MORE_TEMPLATES}:
        _, d = page_text(random.Random(7), kinds=(name,), wide=True, min_lines=2)
        assert d.labels, f"template {name} labels nothing"
        seen_kinds |= {lab.kind for lab in d.labels}
    for s in range(160):
        first, _ = page_text(random.Random(s), wide=True)
        seen_templates.add(first)
    assert seen_kinds == set(KINDS)
    every = set(WIDE_TEMPLATES) | set(MORE_TEMPLATES)
    assert every <= seen_templates, f"never chosen: {every - seen_templates}"


def test_ids_and_cards_are_valid(docs) -> None:
    for d in docs:
        for lab in d.labels:
            digits = _digits(lab.value)
            if lab.kind == "id_number":
                assert len(digits) == 15 or id_is_valid(digits), f"ID {lab.value!r} fails GB 11643"
            if lab.kind == "bank_card":
                assert 16 <= len(digits) <= 19 and luhn_ok(digits), f"card {lab.value!r} fails Luhn"


# Each new format as a pattern on the label value: the generator must print all of them.
FORMATS = {
    "id_number": {"6-8-4 spaced": r"^\d{6} \d{8} \d{3}[\dX]$", "lower-case x": r"^\d{17}x$",
                  "15-digit": r"^\d{15}$", "one digit per box": r"^(\d ){17}[\dX]$",
                  "full width": r"^[０-９]{17}[０-９X]$", "across a line": r"\n", "typed ×": "×$",
                  "across a cell (padded)": "\n\u3000+", "dashed": r"^\d{6}-\d{8}-\d{3}[\dX]$"},
    "phone": {"(+86)": r"^[（(]\+86[)）]", "0086": r"^0086", "+86": r"^\+86", "86-": r"^86-",
              "3-4-4 spaced": r"^\d{3} \d{4} \d{4}$", "dashes": r"^\d{3}-\d{4}-\d{4}$",
              "dots": r"^\d{3}\.\d{4}\.\d{4}$", "numerals mixed with digits": r"^\d{3} ?[〇零一二三四五六七八九]{4} ?\d{4}$",
              "all numerals": r"^[〇零一二三四五六七八九]{11}$"},
    "landline": {"(010)8765-4321": r"^[(（]0\d{2,3}[)）]\d{3,4}-\d{4}$", "extension 转": r"转\d+$",
                 "extension 分机": r"分机\d+$", "extension -": r"^0\d{2,3}-\d{7,8}-\d{3,4}$",
                 "0571-8765 4321": r"^0\d{2,3}-\d{3,4} \d{4}$"},
    "bank_card": {"4-4-4-4-3": r"^(\d{4} ){4}\d{3}$", "4-4-4-4": r"^(\d{4} ){3}\d{4}$",
                  "plain 19": r"^\d{19}$", "17 or 18 digits": r"^\d{17,18}$|^(\d{4}[ -]+){4}\d{1,2}$",
                  "6-13": r"^\d{6} \d{10,13}$"},
    "address": {"rural 县乡村组号": r"县.*[乡镇].*村.+组\d+号$", "兵团 连": r"兵团.*团.*连\d+号$",
                "农场 队": r"农场.*队\d+号$", "栋单元室": r"栋\d单元\d+室$", "之一": "之一",
                "甲": "甲\\d", "附X号": r"附\d+号"},
    "name": {"dot ·": "·", "dot •": "•", "dot ・": "・", "pinyin": r"^[A-Za-z]+ [A-Za-z]+$",
             "张王氏": "^.{2}氏$", "compound surname": "^(欧阳|司马|上官|诸葛|慕容|申屠|皇甫|尉迟)",
             "padded to three": "^.[　 ]{1,2}.$"},
}


def test_every_new_format_is_printed() -> None:
    values: dict[str, list[str]] = {k: [] for k in KINDS}
    for d in _docs(150):
        for lab in d.labels:
            values[lab.kind].append(lab.value)
    missing = [f"{kind}: {fmt}" for kind, fmts in FORMATS.items() for fmt, pat in fmts.items()
               if not any(re.search(pat, v) for v in values[kind])]
    assert not missing, f"formats never printed: {missing}"
    pairs = [d.text[a.end:b.start] for d in _docs(150) for a, b in zip(d.labels, d.labels[1:])
             if a.kind == b.kind == "phone" and b.start - a.end <= 3]
    assert any(sep.strip() in ("/", "、") for sep in pairs), "two phones in one field never printed"


def test_names_after_role_words_without_colon_and_in_cells() -> None:
    text_cues = set()
    for d in _docs(60):
        for lab in d.labels:
            if lab.kind == "name":
                before = d.text[max(0, lab.start - 8):lab.start]
                text_cues.add(next((c for c in ("原告", "被告", "申请人", "见证人", "代收人", "法定代理人",
                                                "委托诉讼代理人", "第三人", "询问人") if before.endswith(c)), ""))
                if before.endswith(("│ ", "| ", "｜ ")):
                    text_cues.add("cell")
    assert {"原告", "被告", "申请人", "法定代理人", "委托诉讼代理人", "cell"} <= text_cues


def test_wide_scans_and_text_layer_pages_keep_exact_spans_and_boxes() -> None:
    for seed in (5, 6):
        page = scanned_page(seed, wide=True)
        arr = np.asarray(page.image, dtype=np.float32)
        paper = float(np.percentile(arr, 90))
        for t in page.truths:
            assert page.text[t.start:t.end] == t.value, f"{t.value!r} not at its span on the scan"
            for left, top, right, bottom in t.boxes:
                inside = arr[int(top):int(bottom) + 1, int(left):int(right) + 1]
                assert (inside < paper - 60).mean() > 0.04, f"no ink under the box of {t.value!r}"
    page = text_layer_page(7, card=True, wide=True)
    assert {t.kind for t in page.truths if t.start < 0} == {"name", "address", "id_number"}
    for t in page.truths:
        if t.start >= 0:
            assert page.text[t.start:t.end] == t.value


# sha256 (first 16 hex) of page texts + labels and of corpus files, from the generator before
# the wide pages existed: a page that is not wide must not have moved.
OLD_TEXTS = {1: "bcf20ee73ae4f050", 2: "ce4e44bc1a4f0ce7", 3: "96d8b3a016183a0a",
             8014: "b837e88e6cdf38e7", 14000: "2d0922571c3e9bfe"}
OLD_FILES = {(8, 1, "png"): "cffdea5835f7c54b", (9, 0, "pdf_mixed"): "5041b308fd5200dd"}


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


# Wide pages as first delivered (before tests.synth.records): those the second set's stream
# passes over must not have moved either.
OLD_WIDE = {100: "9dd04003a3437333", 101: "abb1305e84e484fc", 138: "40fe4d30b5392a30"}


def test_old_seeds_give_the_pages_they_gave() -> None:
    for seed, want in OLD_WIDE.items():
        _, d = page_text(random.Random(seed), wide=True)
        assert _h((d.text + repr(d.labels)).encode()) == want, f"wide page_text({seed}) changed"
    for seed, want in OLD_TEXTS.items():
        _, d = page_text(random.Random(seed))
        assert _h((d.text + repr(d.labels)).encode()) == want, f"page_text({seed}) changed"
    for (seed, index, fmt), want in OLD_FILES.items():
        assert _h(file_bytes(make_entry(seed, index, fmt, wide=False))) == want, f"entry {seed}/{index} changed"


def test_corpus_mixes_wide_pages_by_their_own_stream() -> None:
    share = sum(is_wide(s) for s in range(2000)) / 2000
    assert abs(share - WIDE_SHARE) < 0.05
    assert is_wide(14003) == is_wide(14003)
    wide_seed = next(s for s in range(14000, 14100) if is_wide(s))
    assert make_entry(14, wide_seed - 14000, "pdf_text").page.text == text_layer_page(wide_seed, wide=True).text
