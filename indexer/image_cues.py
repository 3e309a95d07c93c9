"""The image path's own fail-safe: what follows a role or address label is boxed on the served image.

The text detectors (indexer.names, indexer.address …) decide what the index masks; what they
miss there costs a search hit, but on the page image it stays readable to anyone who may see the
page. Measured on realistic scans (bench/image_leak_bench.py), every name or address left readable
on a served image was one the detectors did not find, and nearly all of them sat right after a
form label: a garbled role word (申诘人, 經辦亼), a rare surname, a traditional form, an address
whose tail OCR misread. So the image path does not rely on the detectors alone where a label says
what comes next: after a role cue (户主, 姓名, 经办人, 证人 … exact or one edit off, as indexer.cues
knows them) the next few characters, after an address cue (住址, 户籍地, 现住 …) the rest of the
field, are boxed too, whatever the detectors said. Over-masking an image costs a reader a word;
under-masking costs a person's address.

The spans are only used for image boxes (indexer.page_image.pii_boxes), never for the text: the
index keeps what the detectors decided. Detected spans grown over what OCR cut off:
indexer.image_widen; names named again or by a title: indexer.image_names; misread numbers and
table rows: indexer.image_misreads.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from indexer import cues, textview
from indexer.pii import PiiMatch
from indexer.types import Word

__all__ = ["ADDRESS_CUES", "DOTS", "address_end", "cue_spans", "layout_gaps"]

ADDRESS_CUES = (
    "现住址|家庭住址|户籍地址|常住地址|原住址|住址|现住|现居住地|居住地址|居住地|暂住地址|暂住地|"
    "户籍所在地|户籍地|户口所在地|住所地|住所|通讯地址|通信地址|联系地址|送达地址|邮寄地址|地址|"
    "迁往地址|迁往地|迁入地址|迁出地址|迁来地址|迁自|迁往|住在|住于|家住|出生地|籍贯"
).split("|")
# 住 alone opens an address after a comma or a gap (男，1950年生，住芙蓉区…), never inside a word.
_ADDRESS = re.compile("|".join(sorted(ADDRESS_CUES, key=len, reverse=True))
                      + r"|(?:(?<=[，,；;、\s0-9Xx])|^)[住現现]?住(?![址所宿院房户戶])(?=\n?[\u4e00-\u9fff])")
# What may sit between a label and its value: label marks (indexer.cues), spaces, brackets.
_SKIP = frozenset("：:”“\"'（）() \t")
DOTS = frozenset("·•・.*-－‐'`^")  # a middle dot as OCR reads it
_LIST_MAX = 4  # names of one label's list (、-separated)
_TRANSLIT = 8  # a transliterated name closed by its field, its dot lost
_NAME_HAN = 4  # a name after a label: up to four characters (compound surname + two)
_DOTTED = 14  # a transliterated name with its dots (买买提·艾力)
_ADDRESS_MAX = 48  # an address field's value, characters in the view
_LIST_END = frozenset("，,、。；;\n")
_STOP = frozenset("，,。；;、！!？?（()）【】[]")
# In an address value OCR makes brackets of 口, 日 or 门 (五道口大道 read 五道[1大道): a square
# bracket, or a round one right before a digit or its own closing one, does not end the field.
_GLYPH_MARKS = frozenset("[]【】|")
# Words that start the next field of a form: a value ends before them.
_NEXT_FIELD = re.compile("身份证|性别|出生|民族|籍贯|电话|手机|联系|关系|职业|婚姻|文化|邮编|邮政|"
                         "日期|年龄|与户主|户别|档号|备注|工作单位|单位|签名|签字|签章")
# The rest of a name label that says which form of the name follows (姓名拼音, 姓名（英文）):
# part of the label, not the name; the value comes after it.
_FORM_TAIL = re.compile(r"[（(]?(?:汉语|漢語)?(?:拼音|英文)(?:名|姓名)?[）)]?")
# Role cues that introduce prose as often as a field, or verbs: only before a label mark.
_PROSE_CUES = frozenset(
    "父亲|母亲|配偶|妻子|丈夫|儿子|女儿|哥哥|姐姐|弟弟|妹妹|祖父|祖母|公公|婆婆|主任|书记|科长|处长|"
    "局长|所长|院长|庭长|队长|村长|组长|站长|经理|会计|出纳|医生|老师|教师|民警|警官|成员|本人|"
    "委托|聘请|授权|汇入|转给|交给|签字|签名|签收|签章|认识|认得".split("|"))


def _marked(view: str, end: int) -> bool:
    """A label mark (colon, quote) or a dropped gap right after the cue."""
    return end < len(view) and view[end] in "：:”“\"'"


def _name_end(view: str, start: int, gaps: frozenset[int] = frozenset(), *,
              field: bool = False) -> int:
    """End of the name-like run at `start`: CJK (up to four), a dotted name, or pinyin words;
    a gap (whitespace the view dropped) ends it, as a table column does. A run of five to eight
    characters closed by the field's end is taken whole: a transliterated name whose dot OCR
    lost or misread (依明·古丽米拉 read 依明古丽米拉, boxed only to 古 before), when the label
    is a `field` one (a colon or a gap after it), not a word glued into prose."""
    if start < len(view) and view[start].isascii() and view[start].isalpha():
        m = re.match(r"[A-Za-z]+(?:[ \-][A-Za-z]+){0,2}", view[start:])
        return start + m.end() if m else start
    end, han, dotted, fourth = start, 0, False, None
    while end < len(view) and end - start < _DOTTED:
        ch = view[end]
        if textview.is_cjk(ch):
            if end > start and (end in gaps or _NEXT_FIELD.match(view, end)):
                break
            han += 1
            end += 1
            if han == _NAME_HAN:
                fourth = end
        elif ch in DOTS and end > start and end + 1 < len(view) and textview.is_cjk(view[end + 1]):
            dotted = True
            end += 1
        else:
            break
    capped = end - start >= _DOTTED and end < len(view) and textview.is_cjk(view[end])
    if dotted or fourth is None or (field and han <= _TRANSLIT and not capped):
        return end
    return fourth


def address_end(view: str, start: int, breaks: list[int]) -> int:
    """End of an address field at `start`: up to punctuation or the next field's label, over a
    line break when the field runs on (the line ended inside it, with no mark)."""
    end = start
    while end < len(view) and end - start < _ADDRESS_MAX:
        ch = view[end]
        glyph = ch in _GLYPH_MARKS or (ch in "(（" and end + 1 < len(view)
                                       and (view[end + 1].isdigit() or view[end + 1] in ")）"))
        if (ch in _STOP and not glyph) or (end > start and _NEXT_FIELD.match(view, end)):
            break
        if ch == "\n":
            nxt = end + 1
            if end - start < 4 or nxt >= len(view) or not (textview.is_cjk(view[nxt])
                                                             or view[nxt].isdigit()):
                break
            if cues.cue_regex().match(view, nxt) or _NEXT_FIELD.match(view, nxt):
                break
        elif ch.isspace() and end + 1 < len(view) and view[end + 1].isspace():
            break  # a table gap: the next column
        end += 1
    return end



def _skip(view: str, pos: int) -> int:
    n = 0
    while pos < len(view) and view[pos] in _SKIP and n < 6:
        pos, n = pos + 1, n + 1
    return pos


def layout_gaps(words: Sequence[Word], text: str) -> set[int]:
    """Positions of `text` before which the page shows a wide horizontal gap (more than 0.8 of
    the line's height between two words of one line): OCR joins CJK words without a space, so
    a table column or a label's tab stop is visible only in the word boxes."""
    out = set()
    prev: Word | None = None
    for w in sorted((w for w in words if 0 <= w.start < w.end <= len(text)
                     and text[w.start:w.end] == w.text), key=lambda w: w.start):
        if prev is not None and prev.line == w.line and w.line is not None:
            if w.left - (prev.left + prev.width) > 0.8 * w.line.height:
                out.add(w.start)
        prev = w
    return out


def cue_spans(text: str, words: Sequence[Word] = ()) -> list[PiiMatch]:
    """Spans of `text` after role cues (kind "name") and address cues (kind "address") that the
    served image must black out whatever the detectors found. Offsets point into `text`;
    `words` (the page's word boxes) show the layout gaps the text does not."""
    view = textview.build(text, join_lines=False)
    v = view.text
    wide = layout_gaps(words, text)
    # a dropped space after a garbled label is a boundary as a colon is (代收入 蔡然珍); two or
    # more spaces, or a wide gap on the page, also end a name (a single one may sit inside: 张 伟)
    gaps, stops = set(), set()
    for i in range(1, len(v)):
        dropped = view.offsets[i] - view.offsets[i - 1] - 1
        if dropped or view.offsets[i] in wide:
            gaps.add(i)
        if dropped >= 2 or view.offsets[i] in wide:
            stops.add(i)
    out: list[tuple[str, int, int]] = []
    label_ends: set[int] = set()
    for m in cues.cue_regex().finditer(v):
        cue = m.group().rstrip("：:”“\"' \t")
        if cue in _PROSE_CUES and not _marked(v, m.start() + len(cue)):
            # in prose only a short run closed by a list mark or the field's end (，母亲李四，)
            stop = _name_end(v, m.end(), frozenset(stops))
            if not (2 <= stop - m.end() <= 3 and (stop == len(v) or stop in stops
                                                  or v[stop] in _LIST_END)):
                continue
        label_ends.add(m.end())
    label_ends.update(cues.fuzzy_cue_ends(v, frozenset(gaps)))
    label_ends.update(b for _a, b in cues.glued_cue_spans(v))
    for end in sorted(label_ends):
        start = _skip(v, end)
        if form := _FORM_TAIL.match(v, start):
            start = _skip(v, form.end())  # 姓名拼音 ZHANG WEI: boxed was 拼音, the label's tail
        field = start > end or start in gaps
        for _ in range(_LIST_MAX):  # 调查人：钱麟胜、努尔·哈斯: every name of the list
            if _NEXT_FIELD.match(v, start):
                break  # a label, not a name (与户主关系)
            stop = _name_end(v, start, frozenset(stops), field=field)
            if stop <= start:
                break
            out.append(("name", start, stop))
            if stop >= len(v) or v[stop] != "、" or stop + 1 in stops:
                break
            start = stop + 1
    breaks = [i for i, ch in enumerate(v) if ch == "\n"]
    for m in _ADDRESS.finditer(v):
        start = _skip(v, m.end())
        if start < len(v) and v[start] == "\n" and m.group().endswith("住"):
            start = _skip(v, start + 1)  # …，住⏎河南省…: the line ended right after the cue
        stop = address_end(v, start, breaks)
        if stop - start >= 2:
            out.append(("address", start, stop))
    spans = []
    for kind, a, b in out:
        while b > a and v[b - 1].isspace():
            b -= 1
        if b <= a:
            continue
        s, e = view.span(a, b)
        spans.append(PiiMatch(kind, s, e, text[s:e]))
    return spans
