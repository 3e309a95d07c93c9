"""Candidate person names over one folded view text (indexer.textview): from jieba's person
tags, from role cues before and after a name, from pseudonyms (陈某某) and from clause starts;
and the checks a candidate must pass before it is masked (indexer.names chooses among them).
"""
from __future__ import annotations

import re

from indexer import cued_names
from indexer.name_data import divisions, is_surname, stopwords, surname_len
from indexer.name_rules import (ANON, ANON_NOT, CLAUSE_START, CLAUSE_VERB, FIELD_LABEL, GIVEN_TAGS,
                                LEADS, LEADS_OR_SURNAME, MAX_DICT_FREQ, NAME_TAGS, PHRASE_FREQ,
                                PHRASE_TAGS, PLACE_END, PLACE_SUFFIX, POST_CUE, PRE_CUE, TERMINATORS,
                                all_cjk, inner_terminator, cued_name_end, pos_tokenizer, tokens)

__all__ = ["Finder", "person_shaped"]

# Form fields whose value is a word from a closed set (已婚, 汉, 高中, 未服兵役 …), never a name:
# an uncued "name" right after one (OCR's 吉偶 for 已婚) is that value misread. One character
# between allows for the label's own last character misread (婚姻揣况).
# Words OCR garbles one character of right after these: 与户主关系 (关傈), 该同志 (柯志).
_GARBLED_LABEL_WORD = re.compile("(?:与户主|與戶主|与戶主|與户主|该|該|此|这位|這位|这名|這名)$")
# Given-name characters that are also terminators, taken as a name's end only before 同志.
GIVEN_ENDERS = frozenset("向")
# A label of three or more characters may carry one misread character of its own (婚娴状况).
_VALUE_LABELS = ("婚姻状况|婚姻|性别|民族|文化程度|兵役状况|兵役|职业|籍贯|出生地|宗教信仰|政治面貌|血型|"
                 "户口性质").split("|")
_VALUE_FIELD = re.compile(
    "(?:" + "|".join(sorted({w[:k] + "[\u4e00-\u9fff]" + w[k + 1:] if len(w) >= 3 else w
                             for w in _VALUE_LABELS for k in range(len(w))}, key=len, reverse=True))
    + r")[\s:：]{0,2}[\u4e00-\u9fff]?$")


_PRONOUNS = frozenset("他她我你您它们")
_NAME_FIELD = re.compile(r"(?:户主)?姓名[：:\s]")
# "Pay the plaintiff an amount": after 向原告 and before a sum of money sits a verb, not a name.
_TO_PARTY = re.compile(r"向(?:原告|被告|申请人|被申请人|上诉人|被上诉人|第三人)[：:\s]*$")
_MONEY = re.compile(r"\s*(?:人民币|\d[\d,，.]*\s*万?元)")


class Finder:
    """Candidates over one view text: (start, end, cued)."""

    def __init__(self, text: str, gaps: frozenset[int] = frozenset(),
                 hard: frozenset[int] = frozenset(), *, breaks: frozenset[int] = frozenset()) -> None:
        self.text = text
        self.breaks = breaks  # line starts the view joined to the line before
        self.gaps, self.hard = gaps, hard  # dropped whitespace; of two or more characters
        self.tokens = tokens(text)
        # A wide gap is a table column: a name may end there, whatever jieba made of the join.
        self.bounds = {t.start for t in self.tokens} | {len(text)} | set(hard)
        # OCR drops the spaces between form fields: a field label starts a new word whatever
        # jieba glued to it (随迁人长孙俊森身份证号).
        self.bounds |= {m.start() for m in FIELD_LABEL.finditer(text)}
        self.freq = pos_tokenizer().tokenizer.FREQ
        self.tags = pos_tokenizer().word_tag_tab
        # Role labels: (where the label starts or None, where its name starts, strength).
        self.cues = cued_names.labels(text, gaps, breaks)
        # Where a field or the next label begins: a name ends there and never runs across it.
        self.field_starts = ({m.start() for m in FIELD_LABEL.finditer(text)}
                             | {a for a, _, _ in self.cues if a is not None})
        self.label_starts = frozenset(a for a, _, _ in self.cues if a is not None)
        self.closed = frozenset(hard | self.field_starts)
        self.name_starts = frozenset(b for _, b, _ in self.cues)
        self.bounds |= self.closed
        self.free: list[tuple[int, int]] = []  # surname-less names a label vouches for

    def from_tags(self) -> list[tuple[int, int, bool]]:
        found = []
        toks = self.tokens
        for i, tok in enumerate(toks):
            if tok.flag in NAME_TAGS and 2 <= len(tok.word) <= 4 and all_cjk(tok.word):
                sl = surname_len(tok.word)
                if sl and 1 <= len(tok.word) - sl <= 2 and self.freq.get(tok.word, 0) < MAX_DICT_FREQ:
                    found.append((tok.start, tok.end, False))
                    continue
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if nxt is None or not is_surname(tok.word) or not all_cjk(nxt.word):
                continue
            if tok.word in LEADS_OR_SURNAME and nxt.flag in NAME_TAGS and surname_len(nxt.word):
                continue  # 张三向李四借款: 向 is the preposition before a whole name
            if ANON.fullmatch(nxt.word):
                found.append((tok.start, nxt.end, True))
            elif (nxt.flag in GIVEN_TAGS and len(nxt.word) <= 2 and nxt.word not in stopwords()
                  and not any(ch in TERMINATORS for ch in nxt.word)):
                found.append((tok.start, nxt.end, False))
        return found

    def from_cues(self) -> list[tuple[int, int, bool]]:
        found = []
        for label, start, kind in self.cues:
            # 姓名: the field holds a name whatever its characters read as (姓名:威海屏性别: 威海
            # is a city), when the next field closes it within four characters.
            end = self._name_field_end(label, start)
            if end is not None:
                self.free.append((start, end))
                continue
            # A dotted name whose dot OCR misread (古丽娜尔'托合提) before its first part alone.
            end = cued_names.loose_dotted_end(self, start, kind)
            # A joiner glued to the label (代收人和乌兰·艾合买提): transliterated names carry no Han
            # surname, so the dotted name starts after it when it reads as one from there too.
            if end is not None and self.text[start] in "和与及" and (
                    joined := cued_names.loose_dotted_end(self, start + 1, kind)) is not None:
                start, end = start + 1, joined
            if end is not None:
                self.free.append((start, end))
                continue
            end = cued_name_end(self.text, start, self.bounds, self.closed)
            if kind == "ask" and end is not None:
                end = self._asked_end(start, end)
            # A "name" right before a colon is the rest of a garbled label (代理人笠章:阙明远).
            labelled = end is not None and end < len(self.text) and self.text[end] in "：:"
            # A transliterated name outranks the Han surname that happens to open it (哈斯…).
            foreign = cued_names.free_name_end(self, start, kind)
            if foreign is not None and foreign - start > 3 and (end is None or foreign > end):
                self.free.append((start, foreign))
                continue
            if end is not None and not labelled and self.acceptable(start, end, True):
                found.append((start, end, True))
                continue
            end = cued_names.free_name_end(self, start, kind)
            if end is not None:
                self.free.append((start, end))
        self.free += cued_names.comrade_spans(self)
        for m in POST_CUE.finditer(self.text):
            for length in (4, 3, 2):  # 4: a compound surname (上官凤兰同志)
                start = m.start() - length
                chunk = self.text[max(start, 0):m.start()]
                sl = surname_len(chunk)
                if chunk[:1] in LEADS and length > 2 and surname_len(chunk[1:]):
                    continue  # 经苏立介绍: 经 is the preposition, 苏立 the name
                # 你和锅萌是什么关系: whom the witness is asked about, after 你和, whatever its
                # surname reads as (OCR's 锅 for 郭); 和 there is the conjunction, not a surname.
                if chunk[:1] in LEADS and start > 0 and self.text[start - 1] in _PRONOUNS:
                    continue
                if (m.group() == "是什么关系" and length <= 3 and start >= 2
                        and self.text[start - 1] in "和与跟同" and self.text[start - 2] in _PRONOUNS
                        and all_cjk(chunk) and not any(ch in _PRONOUNS for ch in chunk)
                        and chunk not in stopwords()):
                    found.append((start, m.start(), True))
                    break
                # jieba may glue a preposition to the surname (对成|汉英同志).
                at_bound = start in self.bounds or (start > 0 and self.text[start - 1] in LEADS)
                # 向 may end a given name right before 同志 (周汉向同志), as it opens one (邱向红).
                ender = (chunk[-1:] in GIVEN_ENDERS and m.group() == "同志"
                         and not self.text.startswith("们", m.end()))
                given = chunk[sl:-1] if ender else chunk[sl:]
                if any(ch in _PRONOUNS for ch in given):
                    continue  # 你和他是什么关系: a pronoun, no given name
                if (start >= 0 and at_bound and all_cjk(chunk)
                        and sl and 1 <= length - sl <= 2
                        and not inner_terminator(given)):
                    found.append((start, m.start(), True))
                    break
        return found

    def _name_field_end(self, label: int | None, start: int) -> int | None:
        if label is None or not _NAME_FIELD.match(self.text, label):
            return None
        for end in range(start + 2, min(start + 4, len(self.text)) + 1):
            if not all_cjk(self.text[start:end]) or any(start < k < end for k in self.closed):
                return None
            if end in self.field_starts or end in self.hard:
                word = self.text[start:end]
                return None if word in stopwords() or FIELD_LABEL.match(word) else end
        return None

    def _asked_end(self, start: int, end: int) -> int:
        """A question closes the name it asks about (你认识欧阳辰承吗: jieba glued 承吗)."""
        sl = surname_len(self.text[start:start + 4])
        for k in (start + sl + 2, start + sl + 1):
            if (end < k < len(self.text) and cued_names.ask_closes(self.text, k)
                    and all_cjk(self.text[start:k]) and not inner_terminator(self.text[start + sl:k])):
                return k
        return end

    def from_anon(self) -> list[tuple[int, int, bool]]:
        """Surname + 某/某某 (陈某某): court documents pseudonymise, the surname still points."""
        found = []
        for m in ANON.finditer(self.text):
            if ANON_NOT.match(self.text, m.start()):
                continue
            for sl in (2, 1):
                start = m.start() - sl
                if start >= 0 and start in self.bounds and is_surname(self.text[start:m.start()]):
                    found.append((start, m.end(), True))
                    break
        return found

    def from_clauses(self) -> list[tuple[int, int, bool]]:
        found = []
        # The verb must be one: 对 heading the noun 对象 (边访对象:, OCR's 走访对象) opens no clause.
        noun_heads = {t.start for t in self.tokens if len(t.word) >= 2 and t.flag[:1] == "n"}
        for m in CLAUSE_VERB.finditer(self.text):
            # Nor is a "verb" a label follows (葛思在记录人…: 在 is the given name's end).
            if m.start() in noun_heads or m.end() in self.label_starts:
                continue
            for length in (2, 3, 4):
                start = m.start() - length
                if start < 0 or (start > 0 and self.text[start - 1] not in CLAUSE_START
                                 and start not in self.breaks):
                    continue
                chunk = self.text[start:m.start()]
                sl = surname_len(chunk)
                if (sl and start in self.bounds and m.start() in self.bounds and all_cjk(chunk)
                        and 1 <= length - sl <= 2
                        and not any(ch in TERMINATORS for ch in chunk[sl:])):
                    found.append((start, m.start(), True))
        return found

    def acceptable(self, start: int, end: int, cued: bool) -> bool:
        word = self.text[start:end]
        if self.paid(start, end):
            return False
        if word in stopwords() or not 2 <= len(word) <= 4 or PRE_CUE.fullmatch(word):
            return False
        if end < len(self.text) and self.text[end] in "：:" and start in self.name_starts:
            return False  # between a label and a colon: the rest of a misread label (代理人笠章:)
        if not person_shaped(self, word, cued) or any(start < k < end for k in self.hard):
            return False
        if self.label_word(start, end):
            return False
        if end < len(self.text) and self.text[end] in PLACE_SUFFIX:
            return False
        if word[-1] in PLACE_END:
            return False
        if not cued:
            if _VALUE_FIELD.search(self.text, max(0, start - 8), start):
                return False  # 婚姻状况吉偶: the value of a form field that never holds a name
            given = word[surname_len(word):]
            if any(ch in TERMINATORS for ch in given):  # 關於 tagged as a name
                return False
            if (self.tags.get(given) in PHRASE_TAGS
                    and self.freq.get(given, 0) >= PHRASE_FREQ):
                return False
            # 文明办, 常青藤: a frequent word plus one character, not a surname plus a name.
            return not (len(word) == 3 and self.freq.get(word[:2], 0) >= MAX_DICT_FREQ)
        # A cue vouches for a name, not for a frequent ordinary word sitting where one could be.
        tag = self.tags.get(word)
        # Closed by the layout (a gap, a line end, a digit: 审判员 金石⏎), a rarer word is a name.
        limit = MAX_DICT_FREQ * (10 if self.layout_closed(end) else 1)
        return tag is None or tag in NAME_TAGS or self.freq.get(word, 0) < limit

    def paid(self, start: int, end: int) -> bool:
        """向原告文付8677140元: OCR's 支付 between the party paid and the amount, not a name."""
        # 向原告借敬， (借款): a two-character "name" the clause ends after is the thing lent.
        return bool(_TO_PARTY.search(self.text, max(0, start - 8), start) and (
            _MONEY.match(self.text, end) or (end - start == 2 and self.text[end:end + 1] in "，,。；;")))

    def label_word(self, start: int, end: int) -> bool:
        """与户主关傈 (关系), 该柯志及其 (同志): a word OCR misread, no person."""
        word = self.text[start:end]
        if not _GARBLED_LABEL_WORD.search(self.text, max(0, start - 3), start):
            return False
        return word[0] in "关關" if self.text[start - 1] == "主" else len(word) == 2 and word[-1] == "志"

    def layout_closed(self, end: int) -> bool:
        return (end >= len(self.text) or end in self.hard or end in self.gaps
                or self.text[end].isdigit())


def person_shaped(finder: Finder, word: str, cued: bool) -> bool:
    """Whole-word checks a cue cannot override: a place (徐汇, 朝阳: data/admin_divisions.txt),
    a surname glued into a frequent verb or function word (支付宝, 发展中), a role word after a
    surname-like character (向原告)."""
    if word in divisions() and not cued:  # a cue outranks the place list: 户主金凤, 主任田阳
        return False
    sl = surname_len(word)
    head = word[:sl + 1]
    if (len(word) > sl + 1 and finder.tags.get(head) in PHRASE_TAGS
            and finder.freq.get(head, 0) >= PHRASE_FREQ):
        return False
    return not PRE_CUE.fullmatch(word[sl:])


