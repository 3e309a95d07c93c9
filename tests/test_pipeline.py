"""Unit tests of the pipeline's redaction step (no services): what leaves `prepare` is masked."""
from __future__ import annotations

import pytest

from indexer.pipeline import prepare, redact_title
from indexer.types import ArchiveMeta, PageText

pytestmark = pytest.mark.integration  # needs Tesseract

META = ArchiveMeta("A-1", "张伟……档案", "户籍档案", "海淀分局", 2020, "内部", "a.pdf", subject_name="张伟")


@pytest.mark.parametrize("text", [
    "当事人张伟，男……住址不详",        # NFKC changes "……" length
    "当事人 张 伟 男",                  # text layers space characters out
    "户主張偉 ㎡",                      # OCR read traditional forms
    "张\n伟",                            # split across lines
])
def test_subject_name_is_masked_however_it_was_read(text):
    page = prepare(PageText(1, text, "ocr"), META)
    for field in (page.display_text, page.search_text, page.jieba_text):
        assert "伟" not in field and "偉" not in field, f"subject name leaked into {field!r}"


def test_title_is_redacted():
    assert redact_title(META) == "张*……档案"


def test_id_with_an_ocr_slip_in_the_checksum_is_still_masked():
    near_miss = "110105199011011232"  # one digit misread: checksum fails, region and date real
    page = prepare(PageText(1, f"身份证号{near_miss}", "ocr"), META)
    assert near_miss not in page.display_text and "110105************" in page.display_text


def test_search_text_is_derived_from_the_redacted_text():
    page = prepare(PageText(1, "電話 13812345678 身份證 110108198503120046", "ocr"), META)
    assert "13812345678" not in page.search_text and "电话" in page.search_text
    assert "198503" not in page.search_text + page.jieba_text
