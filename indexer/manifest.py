"""Manifest parsing (CSV or JSON): one row per file with its archival description.

Headers may be Chinese or English. A bad row is reported with its row number and the reason;
the good rows still go ahead.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer import archive_no
from indexer.types import ArchiveMeta
from indexer.vocab import SEED_VOCABULARY, Vocabulary

ALIASES = {
    "archive_no": ("archive_no", "档号"), "title": ("title", "题名"),
    "category": ("category", "门类", "类别"), "unit": ("unit", "单位", "立档单位"),
    "year": ("year", "年度"), "classification": ("classification", "密级"),
    "file": ("file", "文件", "文件名"), "subject_name": ("subject_name", "当事人"),
    "subject_id": ("subject_id", "当事人身份证号"), "page_count": ("page_count", "页数"),
    "fonds_no": ("fonds_no", "全宗号"), "retention": ("retention", "保管期限"),
    "corrects": ("corrects", "原档号", "更正原档号"),
}
REQUIRED = ("archive_no", "title", "category", "unit", "year", "classification", "file")


@dataclass(frozen=True)
class ManifestRow:
    line: int
    meta: ArchiveMeta | None
    error: str = ""
    file: str = ""


class ManifestError(ValueError):
    pass


def _canonical(raw: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, names in ALIASES.items():
        for n in names:
            if n in raw and raw[n] not in (None, ""):
                out[key] = str(raw[n]).strip()
                break
    return out


def _row(line: int, raw: dict[str, Any], vocab: Vocabulary) -> ManifestRow:
    r = _canonical(raw)
    missing = [k for k in REQUIRED if not r.get(k)]
    if missing:
        return ManifestRow(line, None, f"第 {line} 行缺少字段：{', '.join(missing)}", r.get("file", ""))

    def bad(why: str) -> ManifestRow:
        return ManifestRow(line, None, f"第 {line} 行{why}", r["file"])

    if r["category"] not in vocab.categories:
        return bad(f"门类“{r['category']}”无效，应为 {'、'.join(vocab.categories)}")
    if r["classification"] not in vocab.classifications:
        return bad(f"密级“{r['classification']}”无效，应为 {'、'.join(vocab.classifications)}")
    try:
        year = int(r["year"])
    except ValueError:
        return bad(f"年度“{r['year']}”不是数字")
    pages = r.get("page_count", "")
    if pages and not (pages.isdigit() and int(pages) > 0):
        return bad(f"页数“{pages}”不是正整数")
    fonds_no = r.get("fonds_no", "").upper()
    if fonds_no and fonds_no not in vocab.fonds:
        return bad(f"全宗号“{fonds_no}”不在档案目录中")
    retention = r.get("retention", "")
    by_name = {v: k for k, v in vocab.retentions.items()}
    if retention and retention.upper() not in vocab.retentions and retention not in by_name:
        return bad(f"保管期限“{retention}”无效，应为 {'、'.join(f'{n}（{c}）' for c, n in vocab.retentions.items())}")
    retention = by_name.get(retention, retention.upper())
    code = vocab.category_codes.get(r["category"], "")
    parts, why = archive_no.check(r["archive_no"], category_code=code, year=year,
                                  fonds_no=fonds_no, rules=vocab.rules, fonds=vocab.fonds,
                                  retentions=tuple(vocab.retentions))
    if why:
        return bad(why)
    if retention and parts.get("retention", retention) != retention:
        return bad(f"保管期限 {retention} 与档号中的保管期限 {parts['retention']} 不符")
    if r.get("corrects") == r["archive_no"]:
        return bad("原档号与新档号相同：更正须使用新的档号")
    meta = ArchiveMeta(archive_no=r["archive_no"], title=r["title"], category=r["category"],
                       unit=r["unit"], year=year, classification=r["classification"],
                       file=r["file"], subject_name=r.get("subject_name", ""),
                       subject_id=r.get("subject_id", ""),
                       page_count=int(pages) if pages else None,
                       fonds_no=parts.get("fonds_no", fonds_no),
                       category_code=code if parts or code else "",
                       retention=parts.get("retention", retention),
                       item_no=parts.get("item_no", ""), volume_no=parts.get("volume_no", ""),
                       corrects=r.get("corrects", ""),
                       classification_level=vocab.levels[r["classification"]])
    return ManifestRow(line, meta, file=r["file"])


def parse_manifest(path: str | Path, vocab: Vocabulary = SEED_VOCABULARY) -> list[ManifestRow]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"无法读取清单 {path.name}：{exc}") from None
    return parse_manifest_text(text, path, vocab)


def parse_manifest_text(text: str, path: str | Path,
                        vocab: Vocabulary = SEED_VOCABULARY) -> list[ManifestRow]:
    """Rows of a manifest already read (e.g. decrypted); `path` names it and gives its format;
    `vocab` is what the rows are checked against (the app passes the catalogue's)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"清单 {path.name} 不是有效的 JSON：{exc}") from None
        if isinstance(data, dict):
            data = data.get("files", [])
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ManifestError("JSON 清单应为对象数组，或含 files 数组的对象")
        return [_row(i + 1, r, vocab) for i, r in enumerate(data)]
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise ManifestError(f"清单 {path.name} 没有表头")
    return [_row(i + 2, r, vocab) for i, r in enumerate(reader)]
