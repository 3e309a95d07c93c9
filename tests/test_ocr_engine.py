"""Tesseract in process (indexer.tesseract_api): the same reading as the `tesseract` command it
replaced, a deadline that holds, and an engine per process (a forked pool process makes its own)."""
from __future__ import annotations

import multiprocessing

import pytest

from indexer import ocr, tesseract_api
from indexer.preprocess import preprocess
from indexer.types import IngestError
from tests.synth import render_page

LINES = ["户籍档案查询登记表常住人口登记表", "干部履历表工作经历考察意见政治立场", "民事判决书本院认为被告应支付"]


def _page():
    return preprocess(render_page(LINES, width_mm=120, noise=0.002, seed=7)).image


def _words(text):
    return [(w.text, w.left, w.top, w.width, w.height, w.conf, w.start, w.line) for w in text.words]


def test_tsv_parsed_as_pytesseract_parses_it() -> None:
    """Confidences truncated to int as pytesseract's Output.DICT does (the thresholds downstream
    were set on those), an empty text column kept, the header and junk lines skipped."""
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "1\t1\t0\t0\t0\t0\t0\t0\t800\t600\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t10\t20\t30\t40\t84.928\t户籍\n"
           "garbage\n")
    d = tesseract_api.tsv_to_dict(tsv)
    assert d["level"] == [1, 5] and d["conf"] == [-1, 84] and d["text"] == ["", "户籍"]
    assert d["left"] == [0, 10] and d["height"] == [600, 40]


@pytest.mark.integration
def test_in_process_reads_what_the_command_reads() -> None:
    """Words, boxes, confidences and offsets from the library are the command's (pytesseract on
    the PGM file), so nothing downstream (PII boxes, QA thresholds) sees a different page."""
    assert tesseract_api.available(), "libtesseract not found: the pipeline would fall back"
    page = _page()
    ours = ocr.ocr_image(page, langs="chi_sim")
    real = tesseract_api.available
    try:
        tesseract_api.available = lambda: False  # the command path, as before this module
        command = ocr.ocr_image(page, langs="chi_sim")
    finally:
        tesseract_api.available = real
    assert ours.words, "nothing read: the comparison proves nothing"
    assert _words(ours) == _words(command), "in-process Tesseract read the page differently"
    assert (ours.text, ours.confidence) == (command.text, command.confidence)


@pytest.mark.integration
def test_deadline_cancels_and_says_so() -> None:
    """A page over its OCR time limit fails with the reason (超时), not a hung worker."""
    big = preprocess(render_page(LINES * 12, width_mm=200, noise=0.004, seed=3)).image
    with pytest.raises(IngestError, match="超时"):
        ocr.ocr_image(big, langs="chi_sim+chi_tra", timeout=0.05)
    assert ocr.ocr_image(_page(), langs="chi_sim").words, "the engine is unusable after a timeout"


def _child_reads(_arg) -> tuple[list, bool]:
    inherited = "chi_sim+eng" in tesseract_api._engines
    return _words(ocr.ocr_image(_page(), langs="chi_sim+eng")), inherited


@pytest.mark.integration
def test_forked_processes_read_with_the_engine_loaded_before_the_fork() -> None:
    """A parent preloads the engine and forks page processes (the sync ingest pool): each child
    reads with its inherited copy, two at once, the same words as a fresh engine reads."""
    fresh = _words(ocr.ocr_image(_page(), langs="chi_sim+eng"))
    tesseract_api._close()  # forget it: the parent below has loaded, never used, its engine
    assert tesseract_api.preload("chi_sim+eng")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map(_child_reads, [0, 1, 2, 3])
    assert all(inherited for _, inherited in got), "the children loaded their own models"
    assert [words for words, _ in got] == [fresh] * 4, "a child read differently"
