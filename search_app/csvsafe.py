"""The one way the app writes CSV: every cell that a spreadsheet would read as a formula is
neutralised first.

Excel, LibreOffice and WPS evaluate a cell that starts with = + - @ (and, after trimming, a tab
or carriage return) as a formula, so a user name, query or purpose such as
`=HYPERLINK("http://x","y")` typed into the app would run in the auditor's spreadsheet when the
export is opened. OWASP's remedy is a leading single quote: the cell is then shown as text,
exactly as typed, and no information is lost. Numbers the app itself writes (counts, ids) are
written as numbers, so a negative count is not mangled; only text is neutralised.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # so Excel opens the UTF-8 file as UTF-8 (Chinese text)


def safe_cell(value: Any) -> Any:
    """The value as written to a cell: text that could start a formula gets a leading quote."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: Iterable[Iterable[Any]]) -> str:
    """The CSV document (BOM first) with every cell passed through `safe_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return BOM + buf.getvalue()
