"""Monthly use statistics (by unit, 门类 and purpose category), a server-rendered SVG chart, and
the CSV / XLSX exports of the register.

The chart is drawn here as SVG text (no script, no CDN): the page stays self-contained under the
app's Content-Security-Policy and prints as it shows. Months are the reader's local months
(DISPLAY_TIMEZONE), like every time the app shows.
"""
from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from search_app.csvsafe import csv_text, safe_cell
from search_app.register.models import UseEntry
from search_app.timeutil import local_time

DIMENSIONS = {"unit": "单位", "category": "门类", "purpose": "查询事由类别"}
ENTRY_COLUMNS = (("opened_at", "开始时间"), ("ended_at", "结束时间"), ("username", "用户"),
                 ("display_name", "姓名"), ("unit", "单位"), ("purpose_category", "事由类别"),
                 ("purpose", "查询事由"), ("categories", "门类"), ("approval_ref", "审批编号"),
                 ("files", "利用档号"), ("pages_viewed", "查看页数"), ("pages_exported", "导出页数"),
                 ("copies", "复制件"), ("outcome", "利用效果"), ("session_id", "阅读会话"),
                 ("audit_seqs", "审计记录"))


def month_of(entry: UseEntry) -> str:
    return local_time(entry.opened_at, "%Y-%m", zone=False)


def _keys(entry: UseEntry, dim: str) -> list[str]:
    if dim == "unit":
        return [entry.unit or "—"]
    if dim == "category":
        return list(entry.categories or []) or ["—"]
    return [entry.purpose_category or "—"]


@dataclass
class Stats:
    months: list[str]
    entries: Counter = field(default_factory=Counter)  # month -> entries
    pages: Counter = field(default_factory=Counter)  # month -> pages viewed
    # dimension -> (month, key) -> entries
    by: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def keys(self, dim: str) -> list[str]:
        return sorted({k for _m, k in self.by[dim]})


def monthly(entries: Iterable[UseEntry]) -> Stats:
    out = Stats(months=[])
    for e in entries:
        m = month_of(e)
        out.entries[m] += 1
        out.pages[m] += len(e.pages_viewed or [])
        for dim in DIMENSIONS:
            for key in _keys(e, dim):
                out.by[dim][(m, key)] += 1
    out.months = sorted(out.entries)
    return out


def chart_svg(stats: Stats, *, width: int = 640, height: int = 220) -> str:
    """Bars: register entries per month, labelled with the count (the pages viewed beneath)."""
    months = stats.months[-24:]
    top = max([stats.entries[m] for m in months] or [1])
    pad, base = 30, height - 40
    step = (width - 2 * pad) / max(len(months), 1)
    bar = max(min(step * 0.6, 48), 4)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" id="register-chart" role="img" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f'<title>每月利用登记数</title><line x1="{pad}" y1="{base}" x2="{width - pad}" '
             f'y2="{base}" stroke="#555"/>']
    for i, m in enumerate(months):
        n = stats.entries[m]
        h = (base - 20) * n / top
        x = pad + i * step + (step - bar) / 2
        parts.append(f'<rect class="bar" data-month="{escape(m)}" data-count="{n}" x="{x:.1f}" '
                     f'y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#3b6ea5"/>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" font-size="11" '
                     f'text-anchor="middle">{n}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{base + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(m)}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{base + 27}" font-size="9" fill="#666" '
                     f'text-anchor="middle">{stats.pages[m]}页</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(entry: UseEntry, name: str):
    value = getattr(entry, name)
    if name in ("opened_at", "ended_at"):
        return local_time(value, "%Y-%m-%d %H:%M:%S", zone=False) if value else ""
    if name in ("pages_viewed", "pages_exported"):
        return len(value or [])
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return value


def entry_rows(entries: Iterable[UseEntry]) -> list[list]:
    return [[label for _n, label in ENTRY_COLUMNS]] + [
        [_cell(e, n) for n, _label in ENTRY_COLUMNS] for e in entries]


def stat_rows(stats: Stats) -> list[list]:
    rows: list[list] = [["月份", "维度", "值", "登记数"]]
    for dim, label in DIMENSIONS.items():
        for (m, key), n in sorted(stats.by[dim].items()):
            rows.append([m, label, key, n])
    return rows


def register_csv(entries: list[UseEntry]) -> str:
    return csv_text(entry_rows(entries))


def register_xlsx(entries: list[UseEntry], stats: Stats) -> bytes:
    """Two sheets: the entries and the monthly statistics. Text cells go through the same
    formula neutralisation as the CSV (a purpose typed as "=..." stays text)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "利用登记"
    for row in entry_rows(entries):
        sheet.append([safe_cell(v) for v in row])
    summary = book.create_sheet("月度统计")
    for row in stat_rows(stats):
        summary.append([safe_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
