"""Names a form label vouches for even when they do not start with a known surname.

OCR misreads the surname as often as any other character (赵 as 起, 俞 as 命, 张 as 長: 原告 起文彬), archives
name people whose surname is in no list (a rare or minority surname), and Uyghur, Kazakh or Tibetan names come
without a Han surname, their middle dot lost or read as a comma, a quote or a hyphen. The
surname rule (indexer.name_rules.cued_name_end) misses all of them, and what it misses is
served readable. What still marks such a name is its place: right after a role label
(申请人、审核人、姓名、原告 …, exact or garbled, indexer.cues) and closed by the end of the field —
a table gap, a line end, a digit, punctuation, the next label. So after a label, a short run of
characters closed like that is a name unless it reads as an ordinary word: a dictionary word
opening it (诉称, 去世, 认为 …), a function word before it, a title or a place.

Kinship words and titles (父亲、主任 …) also introduce prose ("父亲早逝，"), so after them the
field must be closed by layout (gap, line end, digit, next label), a comma or the sex that forms
print after a name (，男，); a label glued to the run without colon or gap vouches for three
characters at most. Verbs among the cues (认识、委托 …) never vouch for a surname-less name.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from indexer import cues, dotnames
from indexer.name_data import divisions, stopwords, surname_len
from indexer.name_rules import (FIELD_LABEL, GIVEN_OPENERS, INNER_GIVEN, NAME_TAGS, PRE_CUE,
                                TERMINATORS, all_cjk, inner_terminator, numeral_at)

__all__ = ["ASK_CLOSE", "ask_closes", "comrade_spans", "free_name_end", "labels", "loose_dotted_end", "strength"]

if TYPE_CHECKING:
    from indexer.name_finder import Finder

Label = tuple[int | None, int, str]  # (where the label starts if known, where its name starts, strength)
_RANK = {"never": 0, "ask": 0, "weak": 1, "label": 2}

# Cues that introduce prose as often as a field: their name needs a layout close.
_WEAK = frozenset(
    "父亲|母亲|配偶|妻子|丈夫|之夫|之妻|儿子|女儿|长子|次子|长女|次女|之子|之女|哥哥|姐姐|弟弟|妹妹|"
    "祖父|祖母|岳父|岳母|公公|婆婆|其父|其母|其妻|其夫|其子|其女|其兄|其弟|其姐|其妹|之父|之母|其配偶|"
    "主任|副主任|书记|副书记|科长|处长|局长|所长|院长|庭长|队长|村长|组长|站长|经理|会计|出纳|医生|老师|"
    "教师|民警|警官|审核|审批|法官|柜员|老婆|老公|媳妇|爱人|前夫|前妻".split("|"))
# Role words that are verbs too (经审批后办理): a label only before a colon or a gap.
_NEEDS_GAP = frozenset(("审核", "审批", "法官", "柜员"))
# Verbs and words that are not labels: no surname-less name after them.
# Whom a witness is asked about (你认识…吗): a name only when the question closes right after it.
_ASK = frozenset(("认识", "认得"))
ASK_CLOSE = frozenset("吗嗎呢吧?？")
# 吗 as OCR misreads it (嗚, 呜, 鸣, 玛, 妈): a question particle only right before the question mark.
_ASK_LIKE = frozenset("嗚呜鸣玛妈")


def ask_closes(text: str, pos: int) -> bool:
    """Whether the question closes at `pos`: a particle or mark, or a misread 吗 before ?."""
    return pos < len(text) and (text[pos] in ASK_CLOSE or (
        text[pos] in _ASK_LIKE and pos + 1 < len(text) and text[pos + 1] in "?？"))
_NEVER = frozenset("委托|聘请|授权|汇入|转给|交给|本人|成员|签字|签名|签收|签章".split("|"))
# A dictionary word opening the run at or above this frequency, not tagged as a name, makes it
# prose (辩称 25, 早逝 49, 到庭 21); garbled or rare names are not dictionary words.
_WORD_FREQ = 20
_VERBISH = frozenset({"v", "vd", "vn", "d", "ad", "p", "c", "u", "f", "r", "t"})
_RARE_WORD = 5
_EVERYDAY_VERB = 10000  # jieba frequency of 见 58965, 请 23523, 无 42181; of 锁 1505, 闪 2906
_INNER_FREQ = 300  # a frequent word inside the run (见附件)
_MAX_HAN = 4  # surname-less run: up to four characters (a garbled compound surname + two)
_MAX_TRANSLIT = 8  # a transliterated name whose dot was lost (努尔兰别克)
_NOT_FIRST = frozenset("的是在于和与及将把被从对向由自系乃即之其该此各本男女年月日号为已曾均并或未不没无")
# The sex printed after a name: ，男， or the register's next field 性别男 (被询问人由安性别男).
_SEX = re.compile(r"(?:[，,]\s*|性别[:：]?\s*)[男女](?:[，,。；;\s]|$|(?<=[男女])(?=民族|出生|身份|年龄))")
_CLOSE_MARKS = frozenset("，,。；;、：:（()）“”\"'〈《")
_LIST_MARKS = frozenset("，,、。")
_MAX_GLUED = 3  # after a label glued to the run (判令被告偿还借款…): a short name only


def strength(cue: str) -> str:
    """'label', 'weak', 'ask' or 'never': how far the cue vouches for a surname-less name."""
    if cue in _NEVER:
        return "never"
    if cue in _ASK:
        return "ask"
    return "weak" if cue in _WEAK else "label"


def _past_doubled(text: str, end: int) -> int:
    """OCR doubles a label's last character (被询问人人鲍恕卫): the name starts after the copy."""
    if end < len(text) and text[end - 1] in "人员" and text[end] == text[end - 1]:
        return end + 1
    return end


def labels(text: str, gaps: frozenset[int], breaks: frozenset[int]) -> list[Label]:
    """Every role label of a view text: exact cues, cues garbled before a colon or gap, garbled
    cues glued to the name (indexer.cues), and misread labels closed by a nearby colon."""
    found: list[Label] = [(m.start(), _past_doubled(text, m.end()), strength(m.group().rstrip("：:”“\"' \t")))
                          for m in PRE_CUE.finditer(text)
                          if not (m.group() in _NEEDS_GAP and m.end() not in gaps)]
    # A joined line break is no gap after a label: "…登记表⏎户别" has no name.
    found += [(None, end, "label") for end in cues.fuzzy_cue_ends(text, gaps - breaks)]
    found += [(a, b, "label") for a, b in cues.glued_cue_spans(text, breaks)]
    # Chained labels (受送达人签收 …, 承办人签章 …) lend the first one's strength to the last,
    # but a verb after a role (经办人签字后生效) vouches for a layout-closed name only.
    ends = {b: k for a, b, k in found if a is not None}
    found = [(a, b, max(k, min(ends.get(a, "never"), "weak" if k == "never" else "label",
                               key=_RANK.get), key=_RANK.get)) for a, b, k in found]
    # A colon a few characters after a label ends a longer, misread label (代理人笠章:).
    for a, b, k in list(found):
        colon = next((c for c in range(b, min(b + 4, len(text))) if text[c] in "：:"), None)
        if a is not None and colon and colon > b and all_cjk(text[b:colon]):
            found.append((None, colon + 1, k))
    return found


def _closed(finder: Finder, end: int, kind: str) -> bool:
    text = finder.text
    if kind == "ask":
        return ask_closes(text, end)
    # A whitespace run the view kept (a table column, a blank line) is a layout close as much
    # as a dropped gap is (审判长 战珍远    审判员).
    if (end >= len(text) or end in finder.hard or end in finder.gaps or end in finder.field_starts
            or text[end].isspace()):
        return True
    if text[end].isdigit() or numeral_at(text, end) or _SEX.match(text, end):
        return True
    if text.startswith(dotnames.TITLES, end) or dotnames.PAGES.match(text, end):
        return True  # 对其其格，乌兰同志进行: a title closes the name as a gap does; so does 共3页
    return text[end] in (_CLOSE_MARKS if kind == "label" else "，,")


def _wordlike(finder: Finder, chunk: str, *, foreign: bool = False, fielded: bool = False) -> bool:
    """Prose, not a person: a dictionary word opens the run (诉称, 去世, 认为) or sits inside it
    (见附件), or the run is one. Names are rarely dictionary words; a garbled one even less."""
    for k in range(len(chunk), 1, -1):
        word = chunk[:k]
        freq, tag = finder.freq.get(word, 0), finder.tags.get(word)
        # Rare dictionary verbs count too, but not in a transliterated run (热合 is one).
        # (A time word jieba saw fewer than _RARE_WORD times is no evidence: 初晓 3; a verb is:
        # 诉称 3.)
        rare_time = tag == "t" and freq < _RARE_WORD
        if tag not in NAME_TAGS and (freq >= _WORD_FREQ
                                     or (freq and tag in _VERBISH and not foreign and not rare_time)):
            return True
    # A word after a first character that is no verb or function word is a given name that
    # happens to be a word (衣解放, 战和平: parents name children 解放, 和平, 建设), not prose.
    # In a field closed by layout after a label (审核人 闪长江  填表日期), the first character may
    # be a verb too: surnames such as 锁, 闪, 寻, 揣 are; not one of the everyday verbs that
    # open an instruction (见附件, 请…, 无…).
    head_tag, head_freq = finder.tags.get(chunk[0]), finder.freq.get(chunk[0], 0)
    given_word = len(chunk) == 3 and (head_tag not in _VERBISH
                                      or (fielded and head_freq < _EVERYDAY_VERB))
    return not foreign and any(finder.freq.get(chunk[i:j], 0) >= _INNER_FREQ
               and finder.tags.get(chunk[i:j]) not in NAME_TAGS
               and not (given_word and (i, j) == (1, 3))
               for i in range(1, len(chunk) - 1) for j in range(i + 2, len(chunk) + 1))


def free_name_end(finder: Finder, start: int, kind: str) -> int | None:
    """End of a surname-less name right after a cue of strength `kind` at `start`, or None."""
    text = finder.text
    if kind == "never" or start >= len(text) or start in finder.field_starts:
        return None
    if not all_cjk(text[start]):
        return None
    # A function word opens prose (原告：由于…), unless the sex printed after a name follows
    # (原告：由学，男，: 由 is a surname here).
    preposition = text[start] in _NOT_FIRST
    translit = dotnames.TRANSLIT
    glued = start > 0 and all_cjk(text[start - 1]) and start not in finder.gaps
    for length in range(2, _MAX_TRANSLIT + 1):
        end = start + length
        chunk = text[start:end]
        if len(chunk) < length or not all_cjk(chunk) or any(start < k < end for k in finder.hard):
            return None
        # A long run is a transliterated name, one character of it perhaps misread (…别壳).
        misread = sum(ch not in translit for ch in chunk[1:]) + (chunk[0] not in translit) * 2
        if length > _MAX_HAN and misread > 1:
            return None
        # A glued label vouches for four Han characters only up to the next field (审核人X侯晓岚
        # 填表: a misread compound surname); a transliterated run needs no such close.
        if (glued and length > _MAX_GLUED and not (length > _MAX_HAN or misread == 0)
                and end < len(text) and end not in finder.field_starts and end not in finder.hard):
            continue
        if any(start < k < end for k in finder.field_starts):
            return None
        if not _closed(finder, end, kind):
            continue
        if end < len(text) and text[end] in "：:":
            return None  # the rest of a misread label (代理人笠章:), not a name
        if finder.paid(start, end) or finder.label_word(start, end):
            return None
        foreign = sum(ch not in translit for ch in chunk) <= (length > _MAX_HAN) and length > 2
        sexed = _SEX.match(text, end) is not None  # 原告：金星，男， — a person whatever the word
        # A field closed by layout may end in a given-name character that otherwise ends a name
        # (书记员 初和⏎, 任海向  ): only another terminator makes the run a phrase then.
        # A quote mark is what OCR makes of a field's frame or colon (具状人:由志生”一九八一年).
        laid_out = (_closed(finder, end, "weak") and not (end < len(text) and text[end] in "，,")) or (
            end < len(text) and text[end] in "”“\"")
        # A field closed by layout after a label, three characters long: a surname and a given
        # name, whatever the first character is elsewhere (受送达人 由恒楠  送达地址).
        fielded = kind == "label" and laid_out and length == 3
        if preposition and not ((sexed and length <= 3) or fielded):
            return None
        inner = chunk[1:-1] if laid_out and chunk[-1] in GIVEN_OPENERS else chunk[1:]
        if laid_out and length == 3 and inner[:1] in INNER_GIVEN:
            inner = inner[1:]  # 丈夫豆于满1999年: 于 opens the given name
        if ((not foreign and inner_terminator(inner)) or chunk in stopwords()
                or chunk in divisions() or PRE_CUE.match(chunk) or FIELD_LABEL.match(chunk)
                or (not sexed and _wordlike(finder, chunk, foreign=foreign, fielded=fielded))):
            return None
        return end
    return None


def loose_dotted_end(finder: Finder, start: int, kind: str) -> int | None:
    """End of a dotted name after a cue whose dot OCR read as one other mark (努尔兰-别克,
    托合提，艾山江, 古丽娜尔'托合提) and whose parts may each carry one misread character."""
    text = finder.text
    if kind == "never" or start in finder.field_starts:
        return None
    a = dotnames.part_end(text, start)
    if a is None or a >= len(text) or text[a] not in dotnames.ANY_DOTS:
        return None
    b = a + 1
    if b < len(text) and text[b] in dotnames.ANY_DOTS:
        b += 1
    best = None
    for end in dotnames.part_ends(text, b):
        if numeral_at(text, end - 1):
            break  # 阿里木'巴特尔一九五四年: the year starts here
        first, second = text[start:a], text[b:end]
        translit = [all(ch in dotnames.TRANSLIT for ch in p) for p in (first, second)]
        # One part must be wholly transliteration; after a list comma (李明，马丽) one part must
        # also be longer than a Han given name.
        if not any(translit) or (text[a] in _LIST_MARKS and max(len(first), len(second)) < 3):
            continue
        if first[0] not in dotnames.TRANSLIT and len(first) > 2:
            return None  # 书记贝古丽娜尔 (员 misread as 贝): the misread character is the label's, not the name's
        inside = finder.hard | finder.field_starts
        close = "ask" if kind == "ask" else "label"  # 你认识如仙古丽'古丽米拉吗
        if any(start < k < end for k in inside if k not in (a, b)) or not _closed(finder, end, close):
            continue
        if dotnames.PAGES.search(text, start, end + 4):
            if dotnames.PAGES.match(text, end):
                best = end  # …古丽米拉共3页: the page count closes the name
            break
        if kind == "ask":
            return end  # the question mark closes the first reading (…古丽米拉吗?)
        best = end
    return best


# "对/关于 … 同志" (对趄文彬同志进行了考察): the report names whom it is about; a misread
# surname there leaves the person's whole name readable.
_ABOUT = re.compile(r"对|关于")
# 同志 itself may be misread (范奖怡品志的, 依明同二进行): one character of it, when the report's
# own words follow (的 … 报告, 进行了 …).
_COMRADE_NEXT = r"(?=同志|[\u4e00-\u9fff]志(?:的|进行)|同[\u4e00-\u9fff](?:的|进行))"
# Five or six characters there are a transliterated name whose dot OCR lost (努尔玉素甫同志).
_COMRADE = re.compile(rf"(?:对|关于|于)([\u4e00-\u9fff]{{2,6}}?){_COMRADE_NEXT}")


def comrade_spans(finder: Finder) -> list[tuple[int, int]]:
    """Three or four characters between 对/关于 and 同志 that read as no ordinary words."""
    out = []
    for m in _COMRADE.finditer(finder.text):
        run, (a, b) = m.group(1), m.span(1)
        if len(run) > 4:
            if run[0] not in _NOT_FIRST and sum(ch not in dotnames.TRANSLIT for ch in run) <= 1:
                out.append((a, b))
            continue
        given = run[-2:]
        sl = surname_len(run)
        if sl and len(run) - sl == 2 and not inner_terminator(given) and run not in stopwords():
            out.append((a, b))  # 对陆自力同寺: a surname and a given name, word or not
            continue
        if (run[0] in _NOT_FIRST or inner_terminator(run[-2:]) or run[1:-2] in TERMINATORS
                or _wordlike(finder, run) or run in stopwords()
                or (finder.freq.get(given, 0) >= _WORD_FREQ and finder.tags.get(given) not in NAME_TAGS)):
            continue
        out.append((a, b))
    for m in _ABOUT.finditer(finder.text):  # a dotted name, its dot or a character misread
        end = loose_dotted_end(finder, m.end(), "label")
        if end is not None and re.match(_COMRADE_NEXT, finder.text[end:end + 4]):
            out.append((m.end(), end))
    return out
