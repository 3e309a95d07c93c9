"""Find person names anywhere on a page: jieba part-of-speech tags, surnames and context cues.

The manifest names only the subject of a file; the pages also name heads of household,
relatives, witnesses, judges and clerks. jieba's person tag (nr) finds most of them but is noisy
in both directions: it tags everyday words (文明, 道德, 荣誉) as names and splits unknown names
into a surname plus a word (孙|红梅). So a candidate must start with a known surname (百家姓,
data/surnames.txt) and is accepted when either
* jieba tags it as a name and it is not a frequent dictionary word (frequent "names" in jieba's
  dictionary are mostly words: 文明 6584, 高明 791; real people in archives are rare words), or
* a cue next to it says a person is named here (户主、申请人、被告、父亲… before, 同志、等人 after);
then it must not be a stop word (data/name_stopwords.txt) nor the start of a place name (张家口、
王府井大街 …). Every false hit hides a searchable word, every miss leaks a name: the balance is
measured in bench/pii_bench.py.
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

import jieba
import jieba.posseg

from indexer import cues, dotnames, textview
from indexer.name_data import divisions as _divisions
from indexer.name_data import is_surname as _is_surname
from indexer.name_data import stopwords as _stopwords
from indexer.name_data import surname_len as _surname_len
from indexer.pii import PiiMatch
from indexer.tokenize import _tokenizer

__all__ = ["find_person_names"]

_NAME_TAGS = frozenset({"nr", "nrfg", "nrt"})
# Tags a given name may carry when jieba split it off its surname (孙|红梅 nr, 周|建华 nz).
_GIVEN_TAGS = frozenset({"nr", "nrfg", "nrt", "nz"})
# jieba dictionary words tagged nr at or above this frequency are treated as ordinary words
# unless a cue vouches for them; below it they are mostly real (historical) people.
_MAX_DICT_FREQ = 100
_PRE_CUE = cues.cue_regex()
_POST_CUE = cues.POST_CUE
# Names in a list share their cue: 本户成员：聂豪凯、齐静、曹仁建 / 武福铁与葛萱力系朋友关系.
_JOINERS = frozenset("、与和及")
# Uncued, a jieba "name" whose given part is a frequent verb or adverb is a phrase (经|审查).
_PHRASE_TAGS = frozenset({"v", "vn", "vd", "d", "p", "c", "ad", "u", "f", "r"})
_PHRASE_FREQ = 1000
# A given name never contains these: they end the name in "户主王芳与户主关系", "李明于".
_TERMINATORS = frozenset(
    "男女于在等和与及的是系为任因经向对将把被从同曾已均现等了也都并或即由自到至"
    "年月日号户之其该此各某某本於與為係從對將吗嗎呢吧啊"
)
# Prepositions and conjunctions that are also (rare) surnames: before a surname, they lead
# the clause rather than start the name.
_LEADS = frozenset("经由在对被把将从与和及给让叫")
_LEADS_OR_SURNAME = frozenset("向于经")
_FIELD_LABEL = re.compile("身份证|性别|出生|住址|电话|关系|民族|籍贯|送达|登记|填表|审核|职业|婚姻|"
                          "文化程度|联系方式|签收|签章|备注|日期")
_CLOSERS = frozenset("、，。；：,;:）)")
# A "name" followed by one of these is the start of a place name (王家庄, 张家口市, 马鞍山路).
_PLACE_SUFFIX = frozenset("路街村镇县区市省乡巷庄屯湾州城寨堡营沟坡岭峪铺河山桥港道里弄苑园")
_PLACE_END = frozenset("路街村镇县区市省乡巷庄屯")  # 张家村, 李庄: the place itself
_ANON = re.compile(r"某某?")  # 陈某某, 王某: already pseudonymised but still a person
_ANON_NOT = re.compile(r"某某?(?:[日月年时地处部些种个项次村镇县市区厂]|单位|公司)")
# A clause that opens with a surname and a short word ended by one of these is about a person:
# "，戴磊永曾于…", "，周晨承在…期间".
_CLAUSE_START = frozenset("，。；：、\n,;:")
_CLAUSE_VERB = re.compile(r"[于在曾因已将是系为到从向对经被把]")


@dataclass(frozen=True)
class _Token:
    word: str
    flag: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _pos() -> jieba.posseg.POSTokenizer:
    """One POS tokenizer per process, sharing the segmenting tokenizer (and its user dictionary,
    whose place and office names keep 派出所 names out of the name tag) with indexer.tokenize."""
    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg.POSTokenizer(_tokenizer())


def _all_cjk(word: str) -> bool:
    return bool(word) and all(textview.is_cjk(ch) for ch in word)


def _tokens(text: str) -> list[_Token]:
    out, pos = [], 0
    for pair in _pos().cut(text):
        out.append(_Token(pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return out


def _cued_name_end(text: str, start: int, bounds: set[int],
                   hard: frozenset[int] = frozenset()) -> int | None:
    """End of the name a cue announces at `start`: surname plus one or two given characters,
    ending on a jieba word boundary and before any character that cannot be in a given name."""
    sl = _surname_len(text[start:start + 4])
    if not sl:
        return None
    if text.startswith("某", start + sl):
        return start + sl + (2 if text.startswith("某某", start + sl) else 1)
    best = None
    for given in (1, 2):
        end = start + sl + given
        chunk = text[start + sl:end]
        # A name closed by a table gap or punctuation may end in a character that otherwise
        # ends one (任海向  送达地址, 秦振向、傅伟), never in the middle of a phrase (李明于2020年).
        closed = end >= len(text) or end in hard or text[end] in _CLOSERS or text[end].isspace()
        if len(chunk) < given or not _all_cjk(chunk) or any(start < k < end for k in hard):
            break
        if chunk[-1] in _TERMINATORS and not (closed and chunk[-1] not in "男女"):
            if given == 1 and chunk not in "男女于在与和及的是系为":
                continue  # 计向长: 向 may be inside a two-character given name
            break
        if given == 2 and chunk[0] in _TERMINATORS and chunk[0] not in "向均" and not closed:
            break  # 向/均 often open a given name (邱向红, 张均平)
        if chunk in _stopwords():  # 吴律师, 王同志: a title, not a given name
            return None
        if end in bounds or end == len(text):
            best = end
    return best


class _Finder:
    """Candidates over one view text: (start, end, cued)."""

    def __init__(self, text: str, gaps: frozenset[int] = frozenset(),
                 hard: frozenset[int] = frozenset()) -> None:
        self.text = text
        self.gaps, self.hard = gaps, hard  # dropped whitespace; of two or more characters
        self.tokens = _tokens(text)
        # A wide gap is a table column: a name may end there, whatever jieba made of the join.
        self.bounds = {t.start for t in self.tokens} | {len(text)} | set(hard)
        # OCR drops the spaces between form fields: a field label starts a new word whatever
        # jieba glued to it (随迁人长孙俊森身份证号).
        self.bounds |= {m.start() for m in _FIELD_LABEL.finditer(text)}
        self.freq = _pos().tokenizer.FREQ
        self.tags = _pos().word_tag_tab

    def from_tags(self) -> list[tuple[int, int, bool]]:
        found = []
        toks = self.tokens
        for i, tok in enumerate(toks):
            if tok.flag in _NAME_TAGS and 2 <= len(tok.word) <= 4 and _all_cjk(tok.word):
                sl = _surname_len(tok.word)
                if sl and 1 <= len(tok.word) - sl <= 2 and self.freq.get(tok.word, 0) < _MAX_DICT_FREQ:
                    found.append((tok.start, tok.end, False))
                    continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is None or not _is_surname(tok.word) or not _all_cjk(nxt.word):
                continue
            if tok.word in _LEADS_OR_SURNAME and nxt.flag in _NAME_TAGS and _surname_len(nxt.word):
                continue  # 张三向李四借款: 向 is the preposition before a whole name
            if _ANON.fullmatch(nxt.word):
                found.append((tok.start, nxt.end, True))
            elif (nxt.flag in _GIVEN_TAGS and len(nxt.word) <= 2 and nxt.word not in _stopwords()
                  and not any(ch in _TERMINATORS for ch in nxt.word)):
                found.append((tok.start, nxt.end, False))
        return found

    def from_cues(self) -> list[tuple[int, int, bool]]:
        found = []
        starts = [m.end() for m in _PRE_CUE.finditer(self.text)]
        for start in [*starts, *cues.fuzzy_cue_ends(self.text, self.gaps)]:
            end = _cued_name_end(self.text, start, self.bounds, self.hard)
            if end is not None:
                found.append((start, end, True))
        for m in _POST_CUE.finditer(self.text):
            for length in (4, 3, 2):  # 4: a compound surname (上官凤兰同志)
                start = m.start() - length
                chunk = self.text[max(start, 0):m.start()]
                sl = _surname_len(chunk)
                if chunk[:1] in _LEADS and length > 2 and _surname_len(chunk[1:]):
                    continue  # 经苏立介绍: 经 is the preposition, 苏立 the name
                # jieba may glue a preposition to the surname (对成|汉英同志).
                at_bound = start in self.bounds or (start > 0 and self.text[start - 1] in _LEADS)
                if (start >= 0 and at_bound and _all_cjk(chunk)
                        and sl and 1 <= length - sl <= 2
                        and not any(ch in _TERMINATORS for ch in chunk[1:])):
                    found.append((start, m.start(), True))
                    break
        return found

    def from_anon(self) -> list[tuple[int, int, bool]]:
        """Surname + 某/某某 (陈某某): court documents pseudonymise, the surname still points."""
        found = []
        for m in _ANON.finditer(self.text):
            if _ANON_NOT.match(self.text, m.start()):
                continue
            for sl in (2, 1):
                start = m.start() - sl
                if start >= 0 and start in self.bounds and _is_surname(self.text[start:m.start()]):
                    found.append((start, m.end(), True))
                    break
        return found

    def from_clauses(self) -> list[tuple[int, int, bool]]:
        found = []
        for m in _CLAUSE_VERB.finditer(self.text):
            for length in (2, 3, 4):
                start = m.start() - length
                if start < 0 or (start > 0 and self.text[start - 1] not in _CLAUSE_START):
                    continue
                chunk = self.text[start:m.start()]
                sl = _surname_len(chunk)
                if (sl and start in self.bounds and m.start() in self.bounds and _all_cjk(chunk)
                        and 1 <= length - sl <= 2
                        and not any(ch in _TERMINATORS for ch in chunk[sl:])):
                    found.append((start, m.start(), True))
        return found

    def acceptable(self, start: int, end: int, cued: bool) -> bool:
        word = self.text[start:end]
        if word in _stopwords() or not 2 <= len(word) <= 4 or _PRE_CUE.fullmatch(word):
            return False
        if not _person_shaped(self, word, cued) or any(start < k < end for k in self.hard):
            return False
        if end < len(self.text) and self.text[end] in _PLACE_SUFFIX:
            return False
        if word[-1] in _PLACE_END:
            return False
        if not cued:
            given = word[_surname_len(word):]
            if any(ch in _TERMINATORS for ch in given):  # 關於 tagged as a name
                return False
            if (self.tags.get(given) in _PHRASE_TAGS
                    and self.freq.get(given, 0) >= _PHRASE_FREQ):
                return False
            # 文明办, 常青藤: a frequent word plus one character, not a surname plus a name.
            return not (len(word) == 3 and self.freq.get(word[:2], 0) >= _MAX_DICT_FREQ)
        # A cue vouches for a name, not for a frequent ordinary word sitting where one could be.
        tag = self.tags.get(word)
        return tag is None or tag in _NAME_TAGS or self.freq.get(word, 0) < _MAX_DICT_FREQ


def _person_shaped(finder: _Finder, word: str, cued: bool) -> bool:
    """Whole-word checks a cue cannot override: a place (徐汇, 朝阳: data/admin_divisions.txt),
    a surname glued into a frequent verb or function word (支付宝, 发展中), a role word after a
    surname-like character (向原告)."""
    if word in _divisions() and not cued:  # a cue outranks the place list: 户主金凤, 主任田阳
        return False
    sl = _surname_len(word)
    head = word[:sl + 1]
    if (len(word) > sl + 1 and finder.tags.get(head) in _PHRASE_TAGS
            and finder.freq.get(head, 0) >= _PHRASE_FREQ):
        return False
    return not _PRE_CUE.fullmatch(word[sl:])


def _extend_lists(finder: _Finder, chosen: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Neighbours of a found name across a list joiner are names too, when they look like one."""
    text, todo = finder.text, list(chosen)
    taken = list(chosen)
    while todo:
        start, end, _ = todo.pop()
        neighbours = []
        if end < len(text) - 2 and text[end] in _JOINERS:
            nxt = _cued_name_end(text, end + 1, finder.bounds, finder.hard)
            if nxt is not None:
                neighbours.append((end + 1, nxt, True))
        if start >= 3 and text[start - 1] in _JOINERS:
            for length in (3, 2):
                s0 = start - 1 - length
                if (s0 >= 0 and s0 in finder.bounds
                        and _cued_name_end(text, s0, finder.bounds) == start - 1):
                    neighbours.append((s0, start - 1, True))
                    break
        for c in neighbours:
            clash = [o for o in taken if o[0] < c[1] and c[0] < o[1]]
            # The list's cue outranks a shorter uncued guess inside it (韩娟 in 、韩娟汉).
            if finder.acceptable(*c) and all(not o[2] and c[0] <= o[0] and o[1] <= c[1]
                                             for o in clash):
                taken = [o for o in taken if o not in clash] + [c]
                todo.append(c)
    return taken


def find_person_names(text: str) -> list[PiiMatch]:
    """Person names in `text`, spans in `text`, values folded (simplified, no spaces)."""
    view = textview.build(text)
    if not view.text:
        return []
    jumps = [(k, view.offsets[k] - view.offsets[k - 1]) for k in range(1, len(view.offsets))]
    finder = _Finder(view.text, frozenset(k for k, d in jumps if d > 1),
                     frozenset(k for k, d in jumps if d > 2))
    raw = finder.from_cues() + finder.from_anon() + finder.from_tags() + finder.from_clauses()
    candidates = [c for c in raw if finder.acceptable(*c)]
    # Cued candidates first (the cue fixes where the name starts), then longer ones.
    candidates.sort(key=lambda c: (not c[2], c[0] - c[1], c[0]))
    chosen: list[tuple[int, int, bool]] = []
    for c in candidates:
        if all(c[1] <= o[0] or c[0] >= o[1] for o in chosen):
            chosen.append(c)
    # Dotted names (indexer.dotnames) seed lists too: 调查人：哈斯·古丽米拉、宋朝新.
    for span in dotnames.dot_spans(view.text, finder.hard):
        chosen = [c for c in chosen if c[1] <= span[0] or c[0] >= span[1]] + [(*span, True)]
    chosen = _extend_lists(finder, chosen)
    out = []
    for start, end, _ in sorted(chosen):
        o_start, o_end = view.span(start, end)
        out.append(PiiMatch("name", o_start, o_end, view.text[start:end]))
    return out
