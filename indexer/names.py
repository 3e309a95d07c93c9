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

from indexer import dotnames, textview
from indexer.name_finder import Finder
from indexer.name_rules import JOINERS, cued_name_end
from indexer.pii import PiiMatch

__all__ = ["find_person_names"]


def _extend_lists(finder: Finder, chosen: list[tuple[int, int, bool]]) -> list[tuple[int, int, bool]]:
    """Neighbours of a found name across a list joiner are names too, when they look like one."""
    text, todo = finder.text, list(chosen)
    taken = list(chosen)
    while todo:
        start, end, _ = todo.pop()
        neighbours = []
        if end < len(text) - 2 and text[end] in JOINERS:
            nxt = cued_name_end(text, end + 1, finder.bounds, finder.hard)
            if nxt is not None:
                neighbours.append((end + 1, nxt, True))
        if start >= 3 and text[start - 1] in JOINERS:
            for length in (3, 2):
                s0 = start - 1 - length
                if (s0 >= 0 and s0 in finder.bounds
                        and cued_name_end(text, s0, finder.bounds) == start - 1):
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
    finder = Finder(view.text, frozenset(k for k, d in jumps if d > 1),
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
