"""Names in table cells: the column header (姓名) names the cells below it, a label cell the
cell right of it.

Registers, family-member tables, witness lists and bank statements print a name in a cell with
no cue on its line: the cue is the column header a line or more above (关系 | 姓名 | 性别 …) or
the label cell before it (受送达人 │ 欧阳勇华). The line-wise detectors (indexer.names) see a
row such as "母 ｜ 张强军 ｜ 女 ｜ 汉" as prose and find nothing, or half a name (虞伟 of 虞伟萱).
The general rule is layout: split each line into cells at table rules (| ｜ │) or at runs of two
or more spaces; a header line with a name column makes the cell in that column of every
following row a name, when the cell is shaped like one (two to four Han characters, a
transliterated name up to a dozen, a padded 石  瑞), until the table ends (a blank line or a
line that is no row). Rows wrapped over two lines (a long address) leave continuation lines
with fewer cells: they are skipped, not read as rows.
"""
from __future__ import annotations

import re

from indexer import cues, dotnames, textview
from indexer.name_data import divisions, stopwords, surname_len
from indexer.name_rules import FIELD_LABEL
from indexer.pii import PiiMatch

__all__ = ["find_table_names", "table_cells"]

_RULE = re.compile(r"\s*[|｜│┃]\s*")
_GAP = re.compile(r"[ \t\u3000]{2,}")
# Column headers whose cells hold person names (folded to simplified).
_NAME_HEADERS = frozenset(
    "姓名|姓 名|户主姓名|名字|户名|对方户名|账户名|账户名称|收款人|付款人|收款人姓名|付款人姓名|"
    "交易对方|对方名称|证人姓名|成员姓名|家庭成员姓名|当事人|当事人姓名|被调查人|联系人|"
    "申请人|代收人|签收人|领取人|经办人|负责人|监护人".split("|"))
# A label cell after which the next cell is a name (受送达人签名或盖章 │ 欧阳勇华).
# 或党章: OCR's reading of 或盖章 (any one character before 章).
_SIGN_TAIL = re.compile(r"(?:签名|签字|签章|盖章|签收)(?:或(?:盖章|签章|捺印|[\u4e00-\u9fff]章))?$")
_GLUED_NEXT = re.compile(r"([\u4e00-\u9fff]{2,4})[1lI丨]?\s+\d")
_MIN_ROW_SHARE = 0.6  # a row has at least this share of the header's cells
_MAX_TRANSLIT = 12
_MAX_TAIL = 10


def _cells(line: str, ruled: bool) -> list[tuple[int, int]]:
    """[start, end) of each non-empty cell of `line` (whitespace trimmed)."""
    sep = _RULE if ruled else _GAP
    out, pos = [], 0
    for m in [*sep.finditer(line), None]:
        a, b = pos, (m.start() if m else len(line))
        while a < b and line[a].isspace():
            a += 1
        while b > a and line[b - 1].isspace():
            b -= 1
        out.append((a, b))
        if m:
            pos = m.end()
    return out


def _name_shaped(cell: str) -> bool:
    """A cell that can hold one person's name: no label, no word from the stop list."""
    squeezed = re.sub(r"\s+", "", cell)
    if not squeezed or not all(textview.is_cjk(ch) or ch in dotnames.ANY_DOTS for ch in squeezed):
        return False
    han = [ch for ch in squeezed if textview.is_cjk(ch)]
    if not textview.is_cjk(squeezed[0]) or not textview.is_cjk(squeezed[-1]):
        return False
    if len(han) < 2 or len(squeezed) > _MAX_TRANSLIT:
        return False
    if len(han) > 4 and sum(ch not in dotnames.TRANSLIT for ch in han) > 1:
        return False  # five or more characters: a transliterated name, or prose
    if squeezed in stopwords() or squeezed in divisions() or squeezed in _NAME_HEADERS:
        return False
    return not (FIELD_LABEL.match(squeezed) or cues.cue_regex().fullmatch(squeezed))


def _fold(text: str) -> str:
    return "".join(textview.fold_chars(text))


_HEADER_KEYS = frozenset(h[:k] + "\0" + h[k + 1:] for h in _NAME_HEADERS if len(h) >= 3
                        for k in range(len(h)))


def _is_header(cell: str, width: int) -> bool:
    """A name header, or in a header of three or more columns one misread character of one of
    three or more characters (对方户各 for 对方户名)."""
    cell = re.sub(r"\s+", "", cell)
    if cell in _NAME_HEADERS or (len(cell) >= 4 and any(
            cell[:k] + cell[k + 1:] in _NAME_HEADERS for k in range(1, len(cell) - 1))):
        return True  # …or with one character inserted (对方户和名)
    return width >= 3 and len(cell) >= 3 and any(
        cell[:k] + "\0" + cell[k + 1:] in _HEADER_KEYS for k in range(len(cell)))


def _second_name(cells: list[str]) -> int | None:
    """送达人 钟星雯  上官艳平: a role cell with its name, then a gap and one more name (a surname and
    a given name) before the next field: both people hold that role. Index of the second cell."""
    for k in range(len(cells) - 1):
        m = cues.cue_regex().match(cells[k])
        first, second = (cells[k][m.end():] if m else ""), cells[k + 1]
        if (m and 2 <= len(first) <= 4 and all(textview.is_cjk(ch) for ch in first)
                and 2 <= len(second) <= 4 and surname_len(second) and _name_shaped(second)
                and not cues.cue_regex().match(second) and not FIELD_LABEL.search(second)):
            return k + 1
    return None


def _header_column(cells: list[str]) -> int | None:
    hits = [k for k, c in enumerate(cells) if _is_header(c, len(cells))]
    # A header has other columns that are labels, not values: none of them is a digit run.
    if len(hits) != 1 or len(cells) < 2 or any(any(ch.isdigit() for ch in c) for c in cells):
        return None
    return hits[0]


def find_table_names(text: str) -> list[PiiMatch]:
    """Names in table cells of `text` (spans in `text`, values folded without spaces)."""
    return table_cells(text)[0]


def table_cells(text: str) -> tuple[list[PiiMatch], list[tuple[int, int]]]:
    """(names in table cells, spans of the cells of a table's other columns): under a header
    with a name column, the cells of the other columns hold its sex, dates, education, relation
    (初小, 高小, 群众), never a person, whatever jieba makes of them."""
    folded = _fold(text)
    out: list[PiiMatch] = []
    others: list[tuple[int, int]] = []
    pos = 0
    column: tuple[int, int, bool] | None = None  # (name column, header cell count, ruled)
    for line in text.split("\n"):
        start, pos = pos, pos + len(line) + 1
        fline = folded[start:start + len(line)]
        if not fline.strip():
            column = None
            continue
        ruled = bool(_RULE.search(fline))
        spans = _cells(fline, ruled)
        cells = [fline[a:b] for a, b in spans]
        col = _header_column(cells) if len(cells) >= 2 else None
        if col is not None:
            column = (col, len(cells), ruled)
            continue
        # A label cell names the cell right of it (受送达人 │ 欧阳勇华 │ 1998-09-07).
        if ruled:
            for k in range(len(cells) - 1):
                label = re.sub(r"\s+", "", cells[k])
                if (_SIGN_TAIL.search(label) or cues.cue_regex().fullmatch(label)) and _name_shaped(cells[k + 1]):
                    a, b = spans[k + 1]
                    out.append(PiiMatch("name", start + a, start + b, re.sub(r"\s+", "", cells[k + 1])))
        elif (k := _second_name(cells)) is not None:
            a, b = spans[k]
            out.append(PiiMatch("name", start + a, start + b, re.sub(r"\s+", "", cells[k])))
        if column is None:
            continue
        col, width, col_ruled = column
        if ruled != col_ruled:
            # A short unruled line inside a ruled table is a wrapped cell's tail (方感情状况).
            # So is a line without Han characters (a wrapped account number).
            if not (col_ruled and (len(fline.strip()) <= _MAX_TAIL
                                   or not any(textview.is_cjk(ch) for ch in fline))):
                column = None  # another layout: the table ended
            continue
        if len(cells) < max(2, round(width * _MIN_ROW_SHARE)) or col >= len(cells):
            if len(cells) < 2 and not any(ch.isdigit() for ch in fline) and len(fline.strip()) > _MAX_TAIL:
                column = None  # a line of prose: the table ended
            continue  # a wrapped row's continuation
        a, b = spans[col]
        # A padded two-character name split at its padding (石  瑞): one cell too many.
        if (not ruled and len(cells) == width + 1 and b - a == 1 and col + 1 < len(cells)
                and spans[col + 1][1] - spans[col + 1][0] <= 2):
            b = spans[col + 1][1]
        cell = fline[a:b]
        # The next rule read as a digit or letter (央金1 6258…): the name is the cell's head.
        if not _name_shaped(cell) and (m := _GLUED_NEXT.match(cell)):
            b = a + m.end(1)
            cell = fline[a:b]
        if _name_shaped(cell):
            out.append(PiiMatch("name", start + a, start + b, re.sub(r"\s+", "", cell)))
        if len(cells) == width:  # a full row: its other cells are that row's other columns
            others += [(start + c, start + d) for k, (c, d) in enumerate(spans) if k != col]
    return out, others
