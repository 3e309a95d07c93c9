"""The shared vocabulary of the Han-name detectors (indexer.names, indexer.name_finder,
indexer.cued_names): which characters end or cannot be in a given name, which words lead a
clause, jieba's tokens over a view text, and where a name announced by a cue ends.

Kept apart from the finders so each detector reads as its rule and the character classes are
defined once; the word lists themselves are data (indexer.name_data).
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import jieba
import jieba.posseg

from indexer import cues, textview
from indexer.name_data import compound_surnames, stopwords, surname_len
from indexer.tokenize import _tokenizer

NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
# Tags a given name may carry when jieba split it off its surname (孙|红梅 nr, 周|建华 nz).
GIVEN_TAGS = frozenset({"nr", "nrfg", "nrt", "nz"})
# jieba dictionary words tagged nr at or above this frequency are treated as ordinary words
# unless a cue vouches for them; below it they are mostly real (historical) people.
MAX_DICT_FREQ = 100
PRE_CUE = cues.cue_regex()
POST_CUE = cues.POST_CUE
# Names in a list share their cue: 本户成员：聂豪凯、齐静、曹仁建 / 武福铁与葛萱力系朋友关系.
JOINERS = frozenset("、与和及")
# Uncued, a jieba "name" whose given part is a frequent verb or adverb is a phrase (经|审查).
PHRASE_TAGS = frozenset({"v", "vn", "vd", "d", "p", "c", "ad", "u", "f", "r"})
PHRASE_FREQ = 1000
# A given name never contains these: they end the name in "户主王芳与户主关系", "李明于".
TERMINATORS = frozenset(
    "男女于在等和与及的是系为任因经向对将把被从同曾已均现等了也都并或即由自到至"
    "年月日号户之其该此各某某本於與為係從對將吗嗎呢吧啊"
)
# Of those, the ones that also open a two-character given name (李自力, 吕和平, 张为民, 邱向红,
# 张均平, 王同心, 刘从军): inside a given name closed right after its second character they are
# part of it, not the end of the name.
GIVEN_OPENERS = frozenset("向均自和为同从")


def inner_terminator(given: str) -> bool:
    """Whether a terminator sits inside `given` other than a given-name opener (自力, 和平)."""
    return any(ch in TERMINATORS and not (k == 0 and len(given) == 2 and ch in GIVEN_OPENERS
                                          and given[1] not in TERMINATORS)
               for k, ch in enumerate(given))


# Prepositions and conjunctions that are also (rare) surnames: before a surname, they lead
# the clause rather than start the name.
LEADS = frozenset("经由在对被把将从与和及给让叫")
LEADS_OR_SURNAME = frozenset("向于经")
FIELD_LABEL = re.compile("身份证|性别|出生|住址|电话|与户主|关系|民族|籍贯|送达|登记|填表|审核|职业|婚姻|"
                          "文化程度|联系方式|联系电话|户别|邮编|签收|签章|备注|日期|档号|代收理由|理由|原因|"
                          "工作单位|卡号|账号")
CLOSERS = frozenset("、，。；：,;:）)|│┃")  # a table rule closes a cell
# A "name" followed by one of these is the start of a place name (王家庄, 张家口市, 马鞍山路).
PLACE_SUFFIX = frozenset("路街村镇县区市省乡巷庄屯湾州城寨堡营沟坡岭峪铺河山桥港道里弄苑园")
PLACE_END = frozenset("路街村镇县区市省乡巷庄屯")  # 张家村, 李庄: the place itself
ANON = re.compile(r"某某?")  # 陈某某, 王某: already pseudonymised but still a person
ANON_NOT = re.compile(r"某某?(?:[日月年时地处部些种个项次村镇县市区厂]|单位|公司)")
# A clause that opens with a surname and a short word ended by one of these is about a person:
# "，戴磊永曾于…", "，周晨承在…期间".
CLAUSE_START = frozenset("，。；：、\n,;:")
CLAUSE_VERB = re.compile(r"[于在曾因已将是系为到从向对经被把]")


@dataclass(frozen=True)
class Token:
    word: str
    flag: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def pos_tokenizer() -> jieba.posseg.POSTokenizer:
    """One POS tokenizer per process, sharing the segmenting tokenizer (and its user dictionary,
    whose place and office names keep 派出所 names out of the name tag) with indexer.tokenize."""
    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.POSTokenizer(_tokenizer())


def all_cjk(word: str) -> bool:
    return bool(word) and all(textview.is_cjk(ch) for ch in word)


def tokens(text: str) -> list[Token]:
    out, pos = [], 0
    for pair in pos_tokenizer().cut(text):
        out.append(Token(pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return out


_NUMERALS = frozenset("〇○零一二三四五六七八九")


def numeral_at(text: str, pos: int) -> bool:
    """A number in Chinese numerals starts at pos (一九六四年, 二〇二一): a name ends before it."""
    # OCR reads 〇 as the letter O or the digit 0 (二OO六年, 二0一八年).
    return (pos + 1 < len(text) and text[pos] in _NUMERALS
            and (text[pos + 1] in _NUMERALS or text[pos + 1] in "年Oo0"))


# Terminators that are also the first given character of a name (狄于立, 豆于满): only where the
# field closes by layout right after the next character (a field label, a gap, a digit), never
# before punctuation or prose (李明于2020年 has its 于 after the given name).
INNER_GIVEN = frozenset("于")


def _laid_out(text: str, end: int, hard: frozenset[int]) -> bool:
    return (end >= len(text) or end in hard or text[end].isspace() or text[end].isdigit()
            or numeral_at(text, end))


# A compound surname with one character misread (宇文 read 字文, 闾丘 read 闻丘, 申屠 read 申履):
# after a cue, two characters one substitution from a compound surname that form no frequent
# word, then two given characters closed by the field's end, are a name.
_GARBLED_WORD_FREQ = 20


@functools.lru_cache(maxsize=1)
def _compound_keys() -> frozenset[str]:
    return frozenset(k for c in compound_surnames() for k in (c[0] + "\0", "\0" + c[1]))


def garbled_compound_end(text: str, start: int, hard: frozenset[int]) -> int | None:
    head, end = text[start:start + 2], start + 4
    if (len(text) < end or not all_cjk(text[start:end]) or any(start < k < end for k in hard)
            or head in compound_surnames() or surname_len(head + "xx") == 2):
        return None
    if not (head[0] + "\0" in _compound_keys() or "\0" + head[1] in _compound_keys()):
        return None
    freq = pos_tokenizer().tokenizer.FREQ
    # 证人余兰证实: a surname, a given name and a word after a name (贺兰 is no evidence then).
    if POST_CUE.search(text, start + 1, end + 2) or PRE_CUE.match(text, start + 2):
        return None
    if (freq.get(head, 0) >= _GARBLED_WORD_FREQ or freq.get(text[start:end], 0)
            or any(ch in TERMINATORS for ch in text[start + 2:end])):
        return None
    if any(numeral_at(text, k) for k in range(start + 2, end)):
        return None  # 钟晨宁二0二0年: the year starts inside, 钟 is no 钟离

    closed = (end >= len(text) or end in hard or text[end] in CLOSERS or text[end].isspace()
              or text[end].isdigit() or numeral_at(text, end))
    return end if closed else None


# The fields that follow a name in a register row (夏侯曉向身份证…, 随迁人 …向性别): where OCR glued
# the next label to the name, it still closes the name for the characters that may end a given
# name as well as lead a phrase (向, 同, 从 …); a preposition proper (于, 在) stays prose.
_NEXT_FIELD = re.compile("身份|性别|性別|出生|民族")
_LABEL_CLOSED_ENDS = frozenset("向均自同从月")  # 月 too: 余秋月身份证 (a date's 月 follows a number)


def cued_name_end(text: str, start: int, bounds: set[int],
                   hard: frozenset[int] = frozenset()) -> int | None:
    """End of the name a cue announces at `start`: surname plus one or two given characters,
    ending on a jieba word boundary and before any character that cannot be in a given name."""
    sl = surname_len(text[start:start + 4])
    garbled = garbled_compound_end(text, start, hard)
    if garbled is not None and (sl < 2 or garbled > start + sl + 2):
        return garbled
    if not sl:
        return None
    if text.startswith("某", start + sl):
        return start + sl + (2 if text.startswith("某某", start + sl) else 1)
    best = None

    def closed_at(end: int) -> bool:
        # A name closed by a table gap or punctuation may end in a character that otherwise
        # ends one (任海向  送达地址, 秦振向、傅伟), never in the middle of a phrase (李明于2020年).
        return (end >= len(text) or end in hard or text[end] in CLOSERS or text[end].isspace()
                or text[end].isdigit() or numeral_at(text, end)
                or (text[end - 1] in _LABEL_CLOSED_ENDS and _NEXT_FIELD.match(text, end) is not None))

    for given in (1, 2):
        end = start + sl + given
        chunk = text[start + sl:end]
        closed = closed_at(end)
        if len(chunk) < given or not all_cjk(chunk) or any(start < k < end for k in hard):
            break
        if numeral_at(text, end - 1):
            break  # 荣德二0一八年: the year starts here
        if chunk[-1] in TERMINATORS and not (closed and chunk[-1] not in "男女"):
            if given == 1 and chunk not in "男女于在与和及的是系为":
                continue  # 计向长: 向 may be inside a two-character given name
            if (given == 1 and chunk in GIVEN_OPENERS and closed_at(end + 1)
                    and all_cjk(text[end:end + 1]) and text[end] not in TERMINATORS):
                continue  # 吕和平    1951: 和 opens the given name closed after it
            if (given == 1 and chunk in INNER_GIVEN and all_cjk(text[end:end + 1])
                    and text[end] not in TERMINATORS and _laid_out(text, end + 1, hard)):
                continue  # 姓名:狄于立性别, 丈夫豆于满1999年: 于 inside a given name
            break
        if (given == 2 and chunk[0] in TERMINATORS and chunk[0] not in GIVEN_OPENERS
                and not closed):
            break  # 向/均 often open a given name (邱向红, 张均平)
        # 吴律师, 王同志: a title, not a given name; but a given name that is a word (戴向前,
        # 于卫星) closed by the field's end is the name.
        if chunk in stopwords() and not (given == 2 and closed and text[end:end + 1] not in "，,。"):
            return None
        # A year in Chinese numerals closes the name whatever jieba glued (盛烛幸二OO八年).
        if end in bounds or end == len(text) or (given == 2 and numeral_at(text, end)):
            best = end
    return best


