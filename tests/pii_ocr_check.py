"""Shared helpers of the OCR-rule tests (tests/test_pii_ocr_*.py): find_pii as ingest runs it."""
from __future__ import annotations

from indexer.pipeline import find_pii
from indexer.types import ArchiveMeta

META = ArchiveMeta("A-1", "档案", "户籍档案", "海淀分局", 2020, "内部", "a.pdf")


def spans(text: str, kind: str) -> list[str]:
    return [text[m.start:m.end] for m in find_pii(text, META) if m.kind == kind]


def assert_found(text: str, kind: str, value: str) -> None:
    got = spans(text, kind)
    assert value in got, f"{kind} {value!r} not masked exactly (got {got}) in {text!r}"
