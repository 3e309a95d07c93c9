"""Regression tests for what the ingest fuzz run (bench/fuzz_ingest.py) found in manifest
parsing: each input below used to end in an exception out of the ingest (a crash of the CLI or
the upload check), an English message, or a silent overwrite. Each now gets a clear refusal in
Chinese, naming what is wrong, and the good rows still go ahead."""
from __future__ import annotations

import csv
import io
import json

import pytest

from indexer.manifest import ManifestError, decode_manifest, parse_manifest, parse_manifest_text

HEADER = ["档号", "题名", "门类", "单位", "年度", "密级", "文件"]


def _row(no: str = "FZT-0001", **over: object) -> dict[str, object]:
    return {"档号": no, "题名": "测试档案", "门类": "户籍档案", "单位": "北京市公安局海淀分局",
            "年度": 2020, "密级": "内部", "文件": f"{no}.pdf", **over}


def _csv(*rows: dict[str, object]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _refusal(data: bytes, name: str = "manifest.csv") -> str:
    with pytest.raises(ManifestError) as caught:
        parse_manifest_text(decode_manifest(data, name), name)
    return str(caught.value)


def test_gbk_manifest_is_refused_naming_the_encoding_not_read_as_mojibake():
    msg = _refusal(_csv(_row()).encode("gbk"))
    assert "不是 UTF-8 编码" in msg and "GBK" in msg and "CSV UTF-8" in msg, msg
    assert "codec" not in msg, f"an English decoder message reached the operator: {msg}"


def test_utf16_with_a_byte_order_mark_is_read_and_without_one_is_refused_with_a_hint():
    [row] = parse_manifest_text(decode_manifest(_csv(_row()).encode("utf-16"), "m.csv"), "m.csv")
    assert row.meta is not None and row.meta.archive_no == "FZT-0001", row.error
    msg = _refusal(_csv(_row()).encode("utf-16-le"))
    assert "没有字节序标记的 UTF-16" in msg, msg


def test_invalid_utf8_names_the_byte():
    data = _csv(_row()).encode()
    at = data.index(b"FZT")
    msg = _refusal(data[:at] + b"\xff" + data[at:])
    assert f"第 {at + 1} 个字节（0xFF）无法解码" in msg, msg


def test_nul_bytes_in_a_csv_are_refused_not_a_csv_error():
    msg = _refusal(_csv(_row(题名="模\x00糊")).encode())
    assert "NUL" in msg and "第 2 行" in msg, msg


def test_a_cell_beyond_the_csv_field_limit_is_refused_not_a_csv_error():
    msg = _refusal(_csv(_row(题名="长" * 200_000)).encode())
    assert "单元格过长" in msg, msg


def test_deeply_nested_json_is_refused_not_a_recursion_error():
    msg = _refusal(b"[" * 100_000 + b"]" * 100_000, "manifest.json")
    assert "嵌套层数过多" in msg, msg


def test_broken_json_is_explained_in_chinese():
    msg = _refusal('[{"档号": }]'.encode(), "manifest.json")
    assert "不是有效的 JSON" in msg and "缺少值" in msg, msg


def test_a_duplicate_archive_no_fails_the_second_row_only():
    rows = parse_manifest_text(_csv(_row("FZT-D1"), _row("FZT-D1", 文件="b.pdf"), _row("FZT-D2")),
                               "m.csv")
    assert rows[0].meta is not None and rows[2].meta is not None
    assert rows[1].meta is None and "与第 2 行重复" in rows[1].error, \
        f"ALLOWED: a second file for 档号 FZT-D1 would overwrite the first's pages: {rows[1]}"


@pytest.mark.parametrize("field, value, expected", [
    ("档号", "A" * 129, "档号过长：最多 128 个字符，收到 129 个"),
    ("单位", "单" * 5000, "单位过长：最多 128 个字符"),
    ("题名", "题" * 100_000, "题名过长：最多 500 个字符"),
    ("文件", "长" * 100 + ".pdf", "文件名最多 255 字节"),
    ("档号", "FZ\x07T", "档号含控制字符或无效字符（U+0007）"),
    ("题名", "空\x00字符", "题名含控制字符或无效字符（U+0000）"),
    ("年度", "99999", "不是四位数的年份"),
    ("年度", "-5", "不是四位数的年份"),
])
def test_values_the_store_or_index_cannot_hold_fail_their_row_with_the_reason(field, value, expected):
    text = json.dumps([_row(**{field: value}), _row("FZT-OK")], ensure_ascii=False)
    bad, good = parse_manifest_text(text, "m.json")
    assert bad.meta is None and expected in bad.error, f"{field}={value[:20]!r}: {bad}"
    assert good.meta is not None, good.error


def test_a_lone_surrogate_in_json_fails_its_row():
    text = '[{"档号": "FZT-S", "题名": "\\ud800", "门类": "户籍档案", "单位": "u", "年度": 2020, ' \
           '"密级": "内部", "文件": "a.pdf"}]'
    [row] = parse_manifest_text(text, "m.json")
    assert row.meta is None and "U+D800" in row.error, row


def test_parse_manifest_reads_bytes_and_refuses_gbk_files(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes(_csv(_row()).encode("gbk"))
    with pytest.raises(ManifestError, match="不是 UTF-8 编码"):
        parse_manifest(path)
    path.write_bytes(b"\xef\xbb\xbf" + _csv(_row()).encode())
    assert parse_manifest(path)[0].meta is not None


@pytest.mark.parametrize("name, data", [
    ("manifest.csv", ",".join(HEADER) + "\n"),
    ("manifest.json", "[]"),
    ("manifest.json", '{"files": []}'),
])
def test_a_manifest_without_rows_is_refused_not_an_empty_job(app, ctx, tmp_path, name, data):
    """The full fuzz run found these silently accepted by `flask ingest`: a job of 0 files and no
    message (the upload page already refused them)."""
    from sqlalchemy import func, select

    from search_app.db import get_session
    from search_app.ingest.models import IngestJob

    path = tmp_path / name
    path.write_text(data, "utf-8")
    before = get_session().scalar(select(func.count()).select_from(IngestJob))
    done = app.test_cli_runner().invoke(args=["ingest", str(path)])
    assert done.exit_code != 0 and "没有任何条目" in done.output, (
        f"{name} {data!r} without rows was accepted: exit {done.exit_code}, {done.output!r}")
    after = get_session().scalar(select(func.count()).select_from(IngestJob))
    assert after == before, f"{name} {data!r} without rows left {after - before} job(s) behind"
