"""Manifest parsing (CSV or JSON): one row per file with its archival description.

Headers may be Chinese or English. A bad row is reported with its row number and the reason;
the good rows still go ahead. A manifest that cannot be read at all (wrong encoding, no header,
broken CSV or JSON) is refused whole, saying why in Chinese. What the fuzz run found
(bench/fuzz_ingest.py) is refused here, before any row is written: control characters and lone
surrogates (PostgreSQL and the UTF-8 encoder reject them later, mid-job), values longer than
their columns and index fields hold, years outside four digits, and a 档号 given twice (its
pages would overwrite each other).
"""
from __future__ import annotations

import csv
import io
import json
import re
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
LABELS = {"archive_no": "档号", "title": "题名", "category": "门类", "unit": "单位", "year": "年度",
          "classification": "密级", "file": "文件", "subject_name": "当事人",
          "subject_id": "当事人身份证号", "page_count": "页数", "fonds_no": "全宗号",
          "retention": "保管期限", "corrects": "原档号"}
# Characters per field: 档号 and 单位 are String(128) columns and index keywords; a file name is
# one path component (255 bytes on Linux, about 85 Chinese characters in UTF-8).
MAX_CHARS = {"archive_no": 128, "title": 500, "unit": 128, "year": 8, "file": 255,
             "subject_name": 64, "subject_id": 32, "category": 32, "classification": 16,
             "page_count": 8, "fonds_no": 32, "retention": 16, "corrects": 128}
YEARS = range(1000, 10_000)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"),
         (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


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


def _bad_value(line: int, r: dict[str, str]) -> str:
    """The refusal for the first over-long or unprintable value of a row, else ""."""
    for key, value in r.items():
        label = LABELS[key]
        if len(value) > MAX_CHARS.get(key, 500) or (key == "file" and len(value.encode()) > 255):
            return (f"第 {line} 行{label}过长：最多 {MAX_CHARS.get(key, 500)} 个字符"
                    f"{'（文件名最多 255 字节）' if key == 'file' else ''}，收到 {len(value)} 个")
        bad = _CONTROL.search(value)
        if bad:
            return (f"第 {line} 行{label}含控制字符或无效字符（U+{ord(bad.group()):04X}），"
                    "请删除后重新导入")
    return ""


def _row(line: int, raw: dict[str, Any], vocab: Vocabulary) -> ManifestRow:
    r = _canonical(raw)
    missing = [k for k in REQUIRED if not r.get(k)]
    if missing:
        return ManifestRow(line, None, f"第 {line} 行缺少字段：{', '.join(missing)}",
                           "" if _bad_value(line, r) else r.get("file", ""))
    unprintable = _bad_value(line, r)
    if unprintable:
        return ManifestRow(line, None, unprintable, "")

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
    if year not in YEARS:
        return bad(f"年度“{r['year']}”不是四位数的年份")
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
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"无法读取清单 {path.name}：{exc.strerror}") from None
    return parse_manifest_text(decode_manifest(data, path.name), path, vocab)


def decode_manifest(data: bytes, name: str) -> str:
    """The manifest's text: UTF-8, or UTF-16/32 when a byte-order mark says so. Anything else is
    refused rather than guessed: GBK and Big5 bytes often decode as the other without error,
    and a 档号 or 单位 read in the wrong encoding would be stored wrong without anyone noticing."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError as exc:
                raise ManifestError(f"清单 {name} 以 {encoding.upper()} 字节序标记开头，但第 "
                                    f"{exc.start + len(bom) + 1} 个字节起无法按该编码解码") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = "请用“CSV UTF-8”格式另存后重新导入"
        if data.count(b"\x00") * 4 > len(data):
            hint = "看起来是没有字节序标记的 UTF-16/32 编码；" + hint
        else:
            try:
                data.decode("gb18030")
                hint = "可能是 GBK/GB18030 或 Big5 编码（如 Excel 默认的“CSV”）；" + hint
            except UnicodeDecodeError:
                pass
        raise ManifestError(f"清单 {name} 不是 UTF-8 编码：第 {exc.start + 1} 个字节"
                            f"（0x{data[exc.start]:02X}）无法解码。{hint}") from None


def parse_manifest_text(text: str, path: str | Path,
                        vocab: Vocabulary = SEED_VOCABULARY) -> list[ManifestRow]:
    """Rows of a manifest already read (e.g. decrypted); `path` names it and gives its format;
    `vocab` is what the rows are checked against (the app passes the catalogue's)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ManifestError(f"清单 {path.name} 不是有效的 JSON：第 {exc.lineno} 行第 "
                                f"{exc.colno} 列，{_JSON_WHY.get(exc.msg, exc.msg)}") from None
        except RecursionError:
            raise ManifestError(f"清单 {path.name} 的 JSON 嵌套层数过多") from None
        if isinstance(data, dict):
            data = data.get("files", [])
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise ManifestError("JSON 清单应为对象数组，或含 files 数组的对象")
        return _unique([_row(i + 1, r, vocab) for i, r in enumerate(data)])
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ManifestError(f"清单 {path.name} 第 {line} 行含 NUL 空字符：不是文本 CSV 文件，"
                            "或是没有字节序标记的 UTF-16 编码")
    try:
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise ManifestError(f"清单 {path.name} 没有表头")
        return _unique([_row(i + 2, r, vocab) for i, r in enumerate(reader)])
    except csv.Error as exc:
        raise ManifestError(f"清单 {path.name} 第 {reader.line_num} 行不是有效的 CSV："
                            f"{_CSV_WHY.get(str(exc).split(' (')[0], str(exc))}") from None


_JSON_WHY = {"Expecting value": "缺少值", "Extra data": "结尾有多余内容",
             "Expecting property name enclosed in double quotes": "键名应使用双引号",
             "Unterminated string starting at": "字符串没有结束引号",
             "Expecting ',' delimiter": "缺少逗号", "Expecting ':' delimiter": "缺少冒号",
             "Invalid control character at": "字符串中有控制字符"}
_CSV_WHY = {"field larger than field limit": "单元格过长（超过 131072 个字符）",
            "new-line character seen in unquoted field": "未加引号的单元格中有换行符"}


def _unique(rows: list[ManifestRow]) -> list[ManifestRow]:
    """A 档号 given a second time fails that row: the two files' pages share document ids and
    the second would silently overwrite the first."""
    first: dict[str, int] = {}
    out = []
    for r in rows:
        no = r.meta.archive_no if r.meta else ""
        if no and no in first:
            r = ManifestRow(r.line, None, f"第 {r.line} 行的档号“{no}”与第 {first[no]} 行重复"
                                          "（同一档号的页面会互相覆盖）", r.file)
        elif no:
            first[no] = r.line
        out.append(r)
    return out
