"""The query's words marked in a page's (redacted) text, in either script: 檔案 in the text is
marked for a query 档案, as the search itself matched it. Pure: text and query in, HTML out."""
from __future__ import annotations

from markupsafe import Markup, escape

from indexer.normalise import for_search
from search_app.search._parse import InvalidInput, parse


def query_terms(query: str) -> list[str]:
    """The words to mark: the query's positive terms (folded), longest first; none when the
    query cannot be read (the viewer then marks nothing rather than guess)."""
    try:
        terms = parse(query).terms if query.strip() else []
    except InvalidInput:
        return []
    return sorted({t.text for t in terms if t.text.strip()}, key=len, reverse=True)


def _folded(text: str) -> str:
    """`text` folded one character at a time, so offsets in the folded text are offsets in it."""
    out = []
    for ch in text:
        f = for_search(ch)
        out.append(f if len(f) == 1 else ch)
    return "".join(out)


def highlight(text: str, query: str) -> Markup:
    """`text` HTML-escaped, with <mark> around every occurrence of the query's words."""
    terms = query_terms(query)
    if not terms or not text:
        return escape(text)
    folded = _folded(text)
    marked = [False] * len(text)
    for term in terms:
        start = folded.find(term)
        while start != -1:
            for i in range(start, start + len(term)):
                marked[i] = True
            start = folded.find(term, start + len(term))
    parts, i = [], 0
    while i < len(text):
        j = i
        while j < len(text) and marked[j] == marked[i]:
            j += 1
        chunk = escape(text[i:j])
        parts.append(Markup(f"<mark>{chunk}</mark>") if marked[i] else chunk)
        i = j
    return Markup("").join(parts)
