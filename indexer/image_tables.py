"""The image path's fail-safe for tables: every cell of a column whose header names personal data.

A register, witness list or bank statement prints a name, an address or a number in a cell whose
only cue is the column header above it (关系 | 姓名 | 性别 …, 序号 住址 联系电话). The text
detectors (indexer.table_names and the pattern detectors) mark such a cell when its text is
shaped like its kind; on a scan OCR garbles many cells (a 兵团 address mid-chain, a rare name
with a misread character, a rule read as a digit), and measured on the wide pages of seed 7302
(bench/image_leak_bench.py) those cells were the values left readable on the served image. The
header says what the column holds whatever the cell now reads as, so the image boxes the cell,
not the value the detectors recognised.

Cells are found as indexer.table_names finds them (table rules | ｜ │, runs of spaces) and also
at the page's own gaps between words (indexer.image_cues.layout_gaps: OCR joins CJK words of two
cells without a space) and at a lone rule misread as 1, l, I or 丨. When a row splits into a
different number of cells than its header (a rule lost or an extra gap), every cell the column
could be is boxed, never none. Spans only add image boxes (indexer.page_image.page_boxes); the
index keeps what the detectors decided.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from indexer import textview
from indexer.image_cues import layout_gaps
from indexer.pii import PiiMatch
from indexer.types import Word

__all__ = ["HEADERS", "column_cells", "rule_glyphs"]

# Column headers (folded to simplified, spaces removed) and the kind their cells hold.
HEADERS: dict[str, str] = {
    **dict.fromkeys(
        "姓名|名字|户名|户主|户主姓名|对方户名|账户名|账户名称|户名称|收款人|付款人|收款人姓名|"
        "付款人姓名|交易对方|对方名称|证人|证人姓名|成员姓名|家庭成员姓名|当事人|当事人姓名|"
        "被调查人|联系人|申请人|代收人|签收人|领取人|经办人|负责人|监护人|曾用名|姓名拼音".split("|"),
        "name"),
    **dict.fromkeys(
        "住址|地址|家庭住址|现住址|现住|户籍地|户籍地址|住所|住所地|居住地|居住地址|常住地址|"
        "通讯地址|联系地址|送达地址|迁往地|迁往地址|迁入地址|迁出地址|原住址|户口所在地|"
        "工作单位及住址".split("|"),
        "address"),
    **dict.fromkeys("电话|联系电话|手机|手机号|手机号码|联系方式|电话号码|住宅电话|固定电话".split("|"),
                    "phone"),
    **dict.fromkeys("身份证号|身份证号码|公民身份号码|身份号码|证件号码|证件号|身份证".split("|"),
                    "id_number"),
    **dict.fromkeys("账号|对方账号|卡号|银行卡号|账户|对方账户|收款账号|付款账号".split("|"),
                    "bank_card"),
}
_KEYS = frozenset(h[:k] + "\0" + h[k + 1:] for h in HEADERS if len(h) >= 3 for k in range(len(h)))
_RULE = re.compile(r"[|｜│┃丨]|(?<=\s)[1lI\]\[](?=\s)")
_SPACES = re.compile(r"[ \t\u3000]{2,}")
_HEADER_MARKS = re.compile(r"[，,、:：;；!！「」\[\]]")
RULE_WIDTH = 0.1  # a ruling line read as a character: its box at most this share of the line's height
RULE_HEIGHT = 0.45
_TAIL_DIGITS = 6  # a wrapped cell's tail under its row: this many digits or more, little else
_MIN_ROW_SHARE = 0.6  # a row has at least this share of the header's cells
_MAX_CELLS_OFF = 2  # more cells missing or extra than this: no row of this table
_PROSE = 16  # a line of one cell this long, with no rule: prose, the table ended


def _header_kind(cell: str, width: int) -> str | None:
    """The kind a header cell names: exact, or in a header of three or more columns one
    misread, dropped or inserted character off a header of three or more characters."""
    c = re.sub(r"\s+", "", cell)
    if c in HEADERS:
        return HEADERS[c]
    if width < 3 or len(c) < 2:
        return None
    for k in range(len(c)):
        if len(c) >= 4 and c[:k] + c[k + 1:] in HEADERS:  # one inserted (对方户和名)
            return HEADERS[c[:k] + c[k + 1:]]
        if len(c) >= 3 and c[:k] + "\0" + c[k + 1:] in _KEYS:  # one misread (对方户各)
            return next(v for h, v in HEADERS.items()
                        if len(h) == len(c) and all(a == b or i == k for i, (a, b) in enumerate(zip(h, c))))
    return None


def rule_glyphs(words: Sequence[Word], text: str) -> set[int]:
    """Offsets of `text` where OCR read a table's ruling line as a character: a one-character
    word a few pixels wide (at most RULE_WIDTH of its line's height) and tall (at least
    RULE_HEIGHT of it: a dash or the stroke of 一 is as narrow, but flat), whatever it was read as
    (1, !, 「, 上, 二, ，: measured on the wide pages, a rule's box is 1-4 px on a 44 px line, the
    narrowest digit or mark of the text twice that)."""
    out = set()
    for w in words:
        if (w.end - w.start == 1 and 0 <= w.start < len(text) and text[w.start] == w.text
                and w.line is not None and w.width <= max(2, RULE_WIDTH * w.line.height)
                and w.height >= RULE_HEIGHT * w.line.height):
            out.add(w.start)
    return out


def _cells(line: str, base: int, gaps: set[int], rules: set[int], *,
           header: bool = False) -> list[tuple[int, int]]:
    """[start, end) of each non-empty cell of `line` (offsets relative to it): split at table
    rules (printed, or read as another character: `rules`), at runs of two or more spaces and
    before a wide gap on the page (`gaps`; both offsets into the page text, `base` is the
    line's offset there). A `header` line also splits at punctuation: no label holds any."""
    cuts: list[tuple[int, int]] = [(m.start(), m.end()) for m in _RULE.finditer(line)]
    cuts += [(m.start(), m.end()) for m in _SPACES.finditer(line)]
    cuts += [(i - base, i - base) for i in gaps if base < i < base + len(line)]
    cuts += [(i - base, i - base + 1) for i in rules if base <= i < base + len(line)]
    if header:
        cuts += [(m.start(), m.end()) for m in _HEADER_MARKS.finditer(line)]
    out, pos = [], 0
    for a, b in sorted(cuts) + [(len(line), len(line))]:
        if a < pos:
            pos = max(pos, b)
            continue
        s, e = pos, a
        while s < e and line[s].isspace():
            s += 1
        while e > s and line[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
        pos = b
    return out


# The other columns' labels (a header's cells are all labels; a form line 姓名  张三  性别  男
# alternates labels and values and is no header).
_LABELS = frozenset("序号|性别|民族|年龄|关系|称谓|籍贯|职业|备注|摘要|金额|余额|日期|学历|婚否|"
                    "编号|币种|用途|事由|结果|签名|盖章|时间".split("|"))
_LABEL_TAIL = re.compile("(?:关系|日期|年月|程度|面貌|事项|职务|单位|号码|名称|情况|状况|时间|"
                         "类别|原因|理由|地点|方式|金额|余额|摘要|备注|民族|性别|序号|年龄|职业)$")


def _is_label(cell: str) -> bool:
    c = re.sub(r"\s+", "", cell)
    return (2 <= len(c) <= 8 and all(textview.is_cjk(ch) for ch in c)
            and (c in _LABELS or bool(_LABEL_TAIL.search(c))))


def _header(cells: list[str]) -> dict[int, str]:
    """Columns of a header line that hold personal data (none: no header). A header's cells are
    all labels (one in three may be garbled past recognition), none of them a digit run."""
    if len(cells) < 3 or any(any(ch.isdigit() for ch in c) for c in cells):
        return {}
    cols = {k: kind for k, c in enumerate(cells) if (kind := _header_kind(c, len(cells)))}
    unknown = sum(k not in cols and not _is_label(c) for k, c in enumerate(cells))
    return cols if cols and 3 * unknown <= len(cells) - 2 else {}


def _digit_tail(line: str) -> bool:
    """A line that is the tail of a number wrapped in its cell (9110226732 under 傅邦庚 │ 父 │ …)."""
    chars = [ch for ch in line if not ch.isspace()]
    digits = sum(ch.isdigit() or ch in "Xx" for ch in chars)
    return digits >= _TAIL_DIGITS and 4 * digits >= 3 * len(chars)


def column_cells(text: str, words: Sequence[Word] = ()) -> list[PiiMatch]:
    """Spans of `text` in the cells under a column header that names personal data, until the
    table ends (a blank line, a line of prose, the next header)."""
    folded = "".join(textview.fold_chars(text))
    gaps = layout_gaps(words, text)
    rules = rule_glyphs(words, text)
    out: list[PiiMatch] = []
    table: tuple[dict[int, str], int] | None = None  # (PII columns, header width)
    pos = 0
    for line in folded.split("\n"):
        base, pos = pos, pos + len(line) + 1
        if not line.strip():
            table = None
            continue
        head = _cells(line, base, gaps, rules, header=True)
        cols = _header([line[a:b] for a, b in head])
        if cols:
            table = (cols, len(head))
            continue
        spans = _cells(line, base, gaps, rules)
        if table is None:
            continue
        cols, width = table
        if len(spans) <= 1:
            if len(line.strip()) >= _PROSE and not any(ch.isdigit() for ch in line):
                table = None  # prose: the table ended
            elif spans and any(kind != "name" for kind in cols.values()) and _digit_tail(line):
                a, b = spans[0]  # a wrapped cell's tail under the row (an ID's last digits)
                out.append(PiiMatch("number", base + a, base + b, text[base + a:base + b]))
            continue
        off = len(spans) - width
        if len(spans) < max(2, round(width * _MIN_ROW_SHARE)) or abs(off) > _MAX_CELLS_OFF:
            continue  # a wrapped row's continuation, or no row of this table
        for col, kind in cols.items():
            # the column's cell, and where it may be when the row has cells lost or added
            lo, hi = (col + min(0, off), col) if off < 0 else (col, col + off)
            for k in range(max(0, lo), min(len(spans) - 1, hi) + 1):
                a, b = spans[k]
                if any(textview.is_cjk(ch) or ch.isalnum() for ch in line[a:b]):
                    out.append(PiiMatch(kind, base + a, base + b, text[base + a:base + b]))
    return out
