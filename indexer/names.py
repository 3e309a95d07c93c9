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

import re

from indexer import dotnames, row_names, table_names, textview
from indexer.cued_names import free_name_end, loose_dotted_end
from indexer.name_finder import Finder
from indexer.name_rules import JOINERS, cued_name_end
from indexer.pii import PiiMatch

__all__ = ["find_person_names"]


def _extend_lists(finder: Finder, chosen: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Neighbours of a found name across a list joiner are names too, when they look like one."""
    text, todo = finder.text, list(chosen)
    free: set[tuple[int, int]] = set()
    taken = list(chosen)
    while todo:
        start, end, _ = todo.pop()
        neighbours = []
        if end < len(text) - 2 and text[end] in JOINERS:
            nxt = cued_name_end(text, end + 1, finder.bounds, finder.closed)
            loose = loose_dotted_end(finder, end + 1, "label") if text[end] == "、" else None
            # A transliterated item outranks the Han surname opening it (舒腾萌、哈斯吐尔逊2022).
            translit = free_name_end(finder, end + 1, "label") if text[end] == "、" else None
            if loose is None and translit is not None and translit - end - 1 > 3 and (
                    nxt is None or translit > nxt):
                loose = translit
            if loose is not None:  # 蒲晓岚、努尔兰-别克: a dotted list item
                neighbours.append((end + 1, loose, True))
                free.add((end + 1, loose))
            elif nxt is not None and finder.acceptable(end + 1, nxt, True):
                neighbours.append((end + 1, nxt, True))
            elif text[end] == "、" and (nxt := free_name_end(finder, end + 1, "label")):
                neighbours.append((end + 1, nxt, True))  # 蒲晓岚、苠秀芝: a list item
                free.add((end + 1, nxt))
        if start >= 3 and text[start - 1] in JOINERS:
            for length in (3, 2):
                s0 = start - 1 - length
                if (s0 >= 0 and s0 in finder.bounds
                        and cued_name_end(text, s0, finder.bounds) == start - 1):
                    neighbours.append((s0, start - 1, True))
                    break
        for c in neighbours:
            clash = [o for o in taken if o[0] < c[1] and c[0] < o[1]]
            # The list's cue outranks a shorter guess inside it (韩娟 in 、韩娟汉, a dotted
            # name's first part).
            if (c[:2] in free or finder.acceptable(*c)) and all(
                    (not o[2] or c[:2] in free) and c[0] <= o[0] and o[1] <= c[1] for o in clash):
                taken = [o for o in taken if o not in clash] + [c]
                todo.append(c)
    return taken


# One sex after two transliterated items (被告:阿不都、努尔,女,): one person whose middle dot OCR
# read as a list comma, not two people.
_ONE_SEX = re.compile(r"[，,]\s*[男女](?:[，,。；;\s]|$)")


def _join_dotted_pairs(text: str, chosen: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    out: list[tuple[int, int, bool]] = []
    for span in sorted(chosen):
        prev = out[-1] if out else None
        if (prev and span[0] == prev[1] + 1 and text[prev[1]] == "、"
                and _ONE_SEX.match(text, span[1])
                and max(span[1] - span[0], prev[1] - prev[0]) >= 3
                and all(ch in dotnames.TRANSLIT for ch in text[prev[0]:prev[1]] + text[span[0]:span[1]])
                and not (len(out) > 1 and out[-2][1] + 1 == prev[0] and text[out[-2][1]] == "、")):
            out[-1] = (prev[0], span[1], True)  # a third item before: a real list
            continue
        out.append(span)
    return out


def find_person_names(text: str) -> list[PiiMatch]:
    """Person names in `text`, spans in `text`, values folded (simplified, no spaces)."""
    view = textview.build(text, join_lines=True)
    if not view.text:
        return []
    jumps = [(k, view.offsets[k] - view.offsets[k - 1]) for k in range(1, len(view.offsets))]
    # A name never runs across a line break, though a label may (其⏎父邝立新).
    finder = Finder(view.text, frozenset(k for k, d in jumps if d > 1),
                    frozenset(k for k, d in jumps if d > 2) | view.breaks, breaks=view.breaks)
    raw = finder.from_cues() + finder.from_anon() + finder.from_tags() + finder.from_clauses()
    candidates = [c for c in raw if finder.acceptable(*c)]
    # Cued candidates first (the cue fixes where the name starts), then longer ones.
    candidates.sort(key=lambda c: (not c[2], c[0] - c[1], c[0]))
    chosen: list[tuple[int, int, bool]] = []
    for c in candidates:
        if all(c[1] <= o[0] or c[0] >= o[1] for o in chosen):
            chosen.append(c)
    # Dotted names (indexer.dotnames) seed lists too: 调查人：哈斯·古丽米拉、宋朝新.
    # A role label's end bounds it too (承办人签章 再努尔·依明: 章 is no part of the name).
    for span in dotnames.dot_spans(view.text, finder.hard | finder.name_starts):
        chosen = [c for c in chosen if c[1] <= span[0] or c[0] >= span[1]] + [(*span, True)]
    # A label's surname-less name (indexer.cued_names) outranks guesses inside it (尔兰别 in
    # 努尔兰别克) but not a cued name it merely overlaps.
    for a, b in sorted(finder.free, key=lambda f: f[0] - f[1]):
        clash = [c for c in chosen if c[0] < b and a < c[1]]
        if all(not c[2] or (a <= c[0] and c[1] <= b) for c in clash):
            chosen = [c for c in chosen if c not in clash] + [(a, b, True)]
    chosen = _join_dotted_pairs(view.text, _extend_lists(finder, chosen))
    out = []
    for start, end, _ in sorted(chosen):
        o_start, o_end = view.span(start, end)
        out.append(PiiMatch("name", o_start, o_end, view.text[start:end]))
    # A column header or label cell fixes a cell's bounds (indexer.table_names): it outranks a
    # guess inside the cell (虞伟 of 虞伟萱).
    cells, others = table_names.table_cells(text)
    out = [m for m in out if not any(c.start < m.end and m.start < c.end for c in cells)
           and not any(a <= m.start and m.end <= b for a, b in others)]
    # A row's shape (indexer.row_names: 序号 姓名 性别 年龄, an amount then its payee) fixes the
    # name's bounds where OCR lost the header or the rules; it outranks guesses it overlaps.
    rows = row_names.find_row_names(text)
    out = [m for m in out + cells if not any(r.start < m.end and m.start < r.end for r in rows)]
    return sorted(out + rows, key=lambda m: m.start)
