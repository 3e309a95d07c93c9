"""More of the image path's fail-safe (indexer.image_cues): values whose shape survives OCR's
misreads although no detector can vouch for them.

Measured on realistic scans (bench/image_leak_bench.py, held-out seed 33): a phone printed in
Chinese numerals was read 一七六六零一鶴零九“七 — two characters misread, so no run of numerals
was long enough for the text detectors — and a family-table row 父亲程麟翠1996年生 was read
考亲程蚀站1996年生, the kinship word garbled, so no cue announced the name. Both stayed readable
on the served image. The spans here only add image boxes (indexer.page_image.page_boxes); the
index keeps what the detectors decided.
"""
from __future__ import annotations

import re
import unicodedata

from indexer import cues, textview
from indexer.digits import CN_DIGITS, SEPARATORS
from indexer.pii import PiiMatch

__all__ = ["closed_names", "member_rows", "misread_numbers", "phone_values"]

MIN_DIGITS = 7  # as indexer.failsafe: a shorter run is no phone, ID or card
MAX_MISREADS = 2  # single characters inside one run that are no digit
_MIN_RUN = 3  # a run of this many digits in a row anchors the number
# What ends a number in prose (1996年, 3号, 24元 …) or a sentence: never a misread digit.
# 共 (…共6页), 或/和/至 between two numbers, the marks of a 案号 (执, 民初 are more than one).
_ENDS = frozenset("年月日号號时時分秒岁歲元圆万萬千仟百佰亿億十拾点點个個次期届屆页頁度共"
                  "或和及与至到，。；：、,;:！!？?（）()")
# Positively no person's number (as indexer.failsafe): a 档号 or 案号 after its label, a case or
# house number closed by 号, a page count or an amount.
_LABELLED = re.compile(r"(?:档号|檔號|案卷号|案卷號|卷号|卷號|全宗号|全宗號|案号|案號)[：:\s]*"
                       r"[A-Za-z0-9\-－—.·]*$")
_CLOSED = re.compile(r"\s*[号號页頁元册冊卷]")


def _digit(ch: str) -> bool:
    return unicodedata.decimal(ch, None) is not None or ch in CN_DIGITS


def misread_numbers(text: str) -> list[PiiMatch]:
    """Runs of MIN_DIGITS or more digits (Arabic, full-width or Chinese numerals, separators as
    indexer.digits knows them between) that one or two misread characters break, each single
    and between digits: the text fail-safe sees two short runs there, a reader one number.
    Runs without a misread are the text fail-safe's (indexer.failsafe) and are left to it, so
    dates and 档号 it exempts stay readable."""
    out: list[PiiMatch] = []
    n, i = len(text), 0
    while i < n:
        if not _digit(text[i]):
            i += 1
            continue
        start, end, digits, misreads, row, best = i, i, 0, 0, 0, 0
        j = i
        while j < n:
            ch = text[j]
            if _digit(ch):
                digits, row, end = digits + 1, row + 1, j + 1
                best = max(best, row)
                j += 1
                continue
            row = 0
            if ch in SEPARATORS and ch != "\n" and j + 1 < n and _digit(text[j + 1]):
                j += 1
                continue
            if (misreads < MAX_MISREADS and ch not in _ENDS and not ch.isspace()
                    and j + 1 < n and _digit(text[j + 1])):
                misreads += 1
                j += 1
                continue
            break
        if (digits >= MIN_DIGITS and misreads and best >= _MIN_RUN and not _CLOSED.match(text, end)
                and not _LABELLED.search(text, max(0, start - 16), start)):
            out.append(PiiMatch("number", start, end, text[start:end]))
        i = max(end, i + 1)
    return out


# A family-table row: a relation (two characters, however OCR garbled them), the member's name
# and the birth year (父亲 程麟翠 1996年生, 岳父楊一兩1971年生, 母亲 李秀英 1950.03).
_ROW = re.compile(r"(?m)^[ \t]*(?:[\u4e00-\u9fff]{2}[ \t：:]*)?([\u4e00-\u9fff][\u4e00-\u9fff·.\-]{1,4}?)"
                  r"[ \t]*(?=(?:19|20)\d\d[ \t]*(?:年[ \t]*(?:\d{1,2}[ \t]*月[ \t]*)?出?生|[.\-/]\d{1,2}))")

# A form label before a date (时间1986.08.11, 签发日期1974.12.31) is no name.
_LABEL = re.compile("时间|時間|日期|时期|年月|出生|签发|簽發|有效|期限|截至|截止|填表|审核|登记")


def member_rows(text: str) -> list[PiiMatch]:
    """The name of each family-table row: the two to five characters between the line's
    relation word and the member's birth year (year 年生, or a year.month), in the folded view
    (traditional script, full-width digits). A garbled relation word (考亲 for 父亲) is no cue the
    detectors know, but the row's shape still says where the name is."""
    view = textview.build(text, join_lines=False)
    out = []
    for m in _ROW.finditer(view.text):
        if _LABEL.search(m.group(1)):
            continue
        s, e = view.span(m.start(1), m.end(1))
        out.append(PiiMatch("name", s, e, text[s:e]))
    return out


# A phone label and what may sit between it and the number (我的手机是…, 联系电话：…).
_PHONE_CUE = re.compile(r"(?:手机|手機|电话|電話|座机|座機|联系方式|聯繫方式|聯系方式|传真|傳真)"
                        r"(?:号码|號碼|号|號)?(?:是|为|為)?[ \t：:]*")
_VALUE_MAX = 20  # characters of a phone value, garbled
_VALUE_END = frozenset("，。；,;\n")
_MIN_VALUE_DIGITS = 4


def phone_values(text: str) -> list[PiiMatch]:
    """The value after a phone label when four or more digits (any script) can be seen in it,
    up to its last digit, however OCR garbled the rest: 我的手机是一五七二八一七三三七五 read
    -五七二八-蕊:三七五 is no number a detector can vouch for, yet seven of its digits are legible."""
    out = []
    for m in _PHONE_CUE.finditer(text):
        end, last, digits = m.end(), -1, 0
        while end < len(text) and end - m.end() < _VALUE_MAX and text[end] not in _VALUE_END:
            if _digit(text[end]):
                digits, last = digits + 1, end
            end += 1
        if digits >= _MIN_VALUE_DIGITS:
            out.append(PiiMatch("phone", m.end(), last + 1, text[m.end():last + 1]))
    return out


# A field ends at a line break, a wide gap or the next field's label (indexer.image_cues lists
# those; 档号 too).
_FIELD_LABEL = re.compile("档号|檔號|身份证|身份證|性别|性別|出生|民族|电话|電話|联系|聯繫|日期|签发|簽發|"
                          "有效期|户别|戶別|关系|關係|籍贯|籍貫|职业|職業|填表")


def _repeats_label(v: str, i: int) -> bool:
    """The next column's label starts as this one did (代收入营志代收理由: 代收人 … 代收理由)."""
    return i + 2 <= len(v) and textview.is_cjk(v[i]) and v[i:i + 2] in v[max(0, i - 7):i]


def closed_names(text: str) -> list[PiiMatch]:
    """Two to four characters glued to a label one edit from a role cue (审判员 read 审判只, 经办民警
    read 經辦民烤) and closed right after by the end of the field: 审判只童文海⏎, 經辦民烤渴然著檔號…,
    代收入营志代收理由 (the next label repeats this one's start).
    The detectors need the cue read right or a mark after it; the field's two ends say enough
    for the image (indexer.cues.fuzzy_cue_ends judges the label)."""
    view = textview.build(text, join_lines=False)
    v = view.text
    ends = [i for i in range(1, len(v) + 1) if textview.is_cjk(v[i - 1])
            and (i == len(v) or v[i] == "\n" or view.offsets[i] - view.offsets[i - 1] > 2
                 or _FIELD_LABEL.match(v, i) or _repeats_label(v, i))]
    spans: dict[int, int] = {}
    for q in ends:
        for n in (2, 3, 4):
            p = q - n
            if p >= 3 and all(textview.is_cjk(ch) for ch in v[p - 1:q]) and not _FIELD_LABEL.search(v, p, q):
                spans.setdefault(p, q)
    exact = {m.end() for m in cues.cue_regex().finditer(v)}  # read right: image_cues' case
    out = []
    for p in cues.fuzzy_cue_ends(v, frozenset(spans)):
        if p in spans and p not in exact:
            s, e = view.span(p, spans[p])
            out.append(PiiMatch("name", s, e, text[s:e]))
    return out
