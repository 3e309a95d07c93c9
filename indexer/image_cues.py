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
index keeps what the detectors decided.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from indexer import cues, dotnames, textview, vocab
from indexer.pii import PiiMatch
from indexer.types import Word

__all__ = ["ADDRESS_CUES", "cue_spans", "layout_gaps", "name_repeats", "titled_names", "widened"]

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
_DOTS = frozenset("·•・.*-－‐'`^")  # a middle dot as OCR reads it
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
        elif ch in _DOTS and end > start and end + 1 < len(view) and textview.is_cjk(view[end + 1]):
            dotted = True
            end += 1
        else:
            break
    capped = end - start >= _DOTTED and end < len(view) and textview.is_cjk(view[end])
    if dotted or fourth is None or (field and han <= _TRANSLIT and not capped):
        return end
    return fourth


def _address_end(view: str, start: int, breaks: list[int]) -> int:
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


_FIELD_REST = 20  # characters of a field's rest that an address match may still take


def _field_numbers(text: str, end: int) -> int:
    """An address match's end moved on over the rest of its field when numbers follow there
    (…劳动南路75号 found, 银杏公富10栋5单元1291宝 misread and left out): up to the field's last
    number and the character after it, never past punctuation or the next field's label."""
    stop = _address_end(text, end, [])
    rest = text[end:stop]
    last = max((i for i, ch in enumerate(rest) if ch.isdigit()), default=-1)
    if last < 0 or last >= _FIELD_REST:
        return end
    last += 1
    if last < len(rest) and textview.is_cjk(rest[last]):
        last += 1
    return end + last


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
        stop = _address_end(v, start, breaks)
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


def name_repeats(text: str, matches: list[PiiMatch]) -> list[PiiMatch]:
    """Every other occurrence of a name the detectors found on this page, in either script and
    with or without spaces: a person named once in a field is often named again in prose, where
    no cue vouches for the name (和李明一起…), and the detectors judge each place on its own."""
    view = textview.build(text, join_lines=True)
    v = view.text
    targets = set()
    for m in matches:
        if m.kind != "name":
            continue
        folded = "".join(ch for ch in textview.fold_chars(text[m.start:m.end]) if not ch.isspace())
        if len(folded) >= 2 and all(textview.is_cjk(ch) or ch in _DOTS for ch in folded):
            targets.add(folded)
    out = []
    for target in targets:
        # the dot of a dotted name as OCR reads it, or lost (其其格·依明 again as 其其格-依明)
        pattern = "".join(_ANY_DOT if ch in _DOTS or ch in dotnames.ANY_DOTS else re.escape(ch)
                          for ch in target)
        for hit in re.finditer(pattern, v):
            s, e = view.span(hit.start(), hit.end())
            out.append(PiiMatch("name", s, e, text[s:e]))
    return out


_ANY_DOT = "[" + re.escape("".join(sorted(_DOTS | dotnames.ANY_DOTS))) + "]{0,2}"
# What OCR makes of a name's middle dot: ·•・. and also * - ' " ` ^ (努尔·哈斯 read 努尔*哈斯)
_DOTTED_RUN = re.compile(r"[\u3400-\u9fff]+(?:\s?[·•・.*\-'\"`^°]\s?[\u3400-\u9fff]+)+")
# An address's numbers and what OCR makes of their separators (3门482号 read 3[1482号, 号楼 split
# off the match): suffix characters, digits, letters and stray marks, with a digit among them.
_TAIL = re.compile(r"\s?(?:[号號院楼樓栋棟幢座门門层層室房户戶组組队隊弄甲乙丙丁单單元]|"
                   r"[0-9０-９A-Za-z\[\]|/\\\-—－#])+")


def widened(text: str, matches: list[PiiMatch], *, vouched: bool = False) -> list[PiiMatch]:
    """Detected spans grown to what they evidently belong to: a name that touches a middle dot
    to the whole dotted name (OCR reads the dot as anything, and a detector that found 哈斯 of
    努尔·哈斯 left 努尔 readable), an address to the house, flat and lane numbers right after it
    (…730弄46号 found, 1097室 misread and left out)."""
    out = []
    folded = textview.fold_chars(text)
    for m in matches:
        if m.kind == "name":
            grown = _over_dot(folded, m.start, m.end, vouched=vouched)
            if grown != (m.start, m.end):
                out.append(PiiMatch("name", *grown, text[grown[0]:grown[1]]))
            for run in _DOTTED_RUN.finditer(text, max(0, m.start - 16), min(len(text), m.end + 16)):
                if run.start() < m.end and m.start < run.end() and (run.start(), run.end()) != (m.start, m.end):
                    out.append(PiiMatch("name", min(run.start(), m.start), max(run.end(), m.end),
                                        text[min(run.start(), m.start):max(run.end(), m.end)]))
        elif m.kind == "address":
            tail = _TAIL.match(text, m.end)
            end = tail.end() if tail and any(ch.isdigit() for ch in tail.group()) else m.end
            if text[end - 1].isdigit() and end < len(text) and textview.is_cjk(text[end]):
                end += 1  # 31号 read 31昊: the misread suffix is still the house number's
            end = _field_numbers(text, end)
            if end > m.end:
                out.append(PiiMatch("address", m.start, end, text[m.start:end]))
        elif m.kind in _NUMERIC:
            # a digit OCR misread (１ as 丨 or l) is outside the match but on the page
            start, end = m.start, m.end
            while start > 0 and m.start - start < 3 and text[start - 1] in _DIGIT_LIKE:
                start -= 1
            while end < len(text) and end - m.end < 3 and text[end] in _DIGIT_LIKE:
                end += 1
            if (start, end) != (m.start, m.end):
                out.append(PiiMatch(m.kind, start, end, text[start:end]))
    return list(dict.fromkeys(out))  # two rules may grow one match alike


# What OCR makes of a middle dot between two parts of a transliterated name, one or two marks
# (巴特爾·阿依古麗 read 巴特页:阿依古腺路); a full stop or semicolon ends a sentence instead.
_PART_DOTS = frozenset((_DOTS | dotnames.ANY_DOTS) - set("。；;"))
_PART_MAX = 6  # characters of one part (dotnames)
_PARTICLES = frozenset("吗呢吧啊呀的了是在等和与及同系为于说称被把向对")


def _part_len(folded: list[str], start: int, step: int) -> int:
    """Length of the name part next to `start` going `step` (-1: leftwards, the part ends just
    before `start`; +1: it begins at `start`): CJK characters, at most one of them outside the
    transliteration set (an OCR misread), up to _PART_MAX; 0 when shorter than two."""
    n, misread, k = 0, 0, start - 1 if step < 0 else start
    while 0 <= k < len(folded) and n < _PART_MAX and textview.is_cjk(folded[k]):
        if step > 0 and n >= 2 and folded[k] in _PARTICLES:
            break
        if folded[k] not in dotnames.TRANSLIT:
            if misread:
                break
            misread = 1
        n, k = n + 1, k + step
    closed = not (0 <= k < len(folded)) or not textview.is_cjk(folded[k])
    if n and misread and not closed and folded[k - step] not in dotnames.TRANSLIT:
        n -= 1  # a misread last character is more likely the next word's, unless the run ends there
    return n if n >= 2 else 0


def _over_dot(folded: list[str], start: int, end: int, *, vouched: bool = False) -> tuple[int, int]:
    """A detected name grown over the other part of a transliterated name on either side of it
    across what OCR made of the dot: a detector that found 阿依古腺路 of 巴特页:阿依古腺路 left
    巴特爾 readable. The found name must itself look transliterated (at most one character in
    three outside the set), so a Han name next to a comma is not grown into its neighbour,
    unless a label `vouched` for it (代理人阿依還兩:迪前拜爾: 阿依古丽 misread twice)."""
    core = [ch for ch in folded[start:end] if textview.is_cjk(ch)]
    if len(core) < 2 or (not vouched and 3 * sum(ch not in dotnames.TRANSLIT for ch in core) > len(core)):
        return start, end
    a, b = start, end
    view = "".join(folded)
    # a label's name may also lose its dot to a full stop (调查人:人海燕、玉素甫。买买担1961…)
    dots = _PART_DOTS | {"。"} if vouched else _PART_DOTS
    for gap in (1, 2):  # a part before the dot, unless it is a role label (调查人:明国)
        if a - gap < 0 or not all(folded[k] in dots for k in range(a - gap, a)):
            break
        if any(m.end() == a - gap for m in cues.cue_regex().finditer(view, max(0, a - gap - 8), a - gap)):
            break
        if n := _part_len(folded, a - gap, -1):
            a = a - gap - n
            break
    for gap in (1, 2):  # a part after it
        if b + gap > len(folded) or not all(folded[k] in dots for k in range(b, b + gap)):
            break
        if n := _part_len(folded, b + gap, 1):
            b = b + gap + n
            break
    return a, b


_NUMERIC = frozenset(set(vocab.PII_KINDS) - {"name"} - {"address"})  # the digit kinds
_DIGIT_LIKE = frozenset("0123456789０１２３４５６７８９lIi|丨!oOQDSZBg〇一二三四五六七八九十-—－.·+＋")
# A name the text calls a comrade, Mr or Ms, after a preposition or a list mark (对傅琪同志,
# 關於傅琪同志, 与王芳女士): the detectors judge 2-character names there too weak to mark.
_TITLED = re.compile(r"(?:对|关于|于|与|和|及|跟|同|给|把|将|向|为|经|、|，|,|。|\n|^)"
                     r"([\u4e00-\u9fff]{2,4}?)(?=同志|先生|女士)")


def titled_names(text: str) -> list[PiiMatch]:
    """Names before 同志/先生/女士 after a preposition or a punctuation mark, in the folded
    view (traditional script and spacing as OCR gives them)."""
    view = textview.build(text, join_lines=True)
    out = []
    for m in _TITLED.finditer(view.text):
        if m.group(1) in ("该", "各位", "全体", "有关", "其他", "广大"):
            continue
        s, e = view.span(m.start(1), m.end(1))
        out.append(PiiMatch("name", s, e, text[s:e]))
    return out
