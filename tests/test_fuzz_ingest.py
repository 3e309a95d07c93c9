"""The ingest fuzz run (bench/fuzz_ingest.py) on a small deterministic sample, through the real
pipeline (the synchronous ingest's process pool, Tesseract, the secured engine, the session's
database), with the bench's assertions: no worker crash, every file a clear per-file error in
Chinese or ingested, and the files already ingested before the fuzz still intact. Plus one
regression test per product fix the full run found."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import fuzz_corpus as corpus  # noqa: E402
from fuzz_ingest import (Report, check_baseline, fingerprint, ingest_baseline,  # noqa: E402
                         is_clear, print_report, run_file_cases, run_manifest_cases)

from indexer.types import IngestError  # noqa: E402

pytestmark = pytest.mark.integration
PREFIX = "FZT"


def _sample() -> tuple[list[corpus.FileCase], list[corpus.ManifestCase]]:
    """60 inputs: every hostile hand-made file, the unreadable re-ingests of baseline 档号,
    a few wrong extensions and zero-byte files, mutated seeds of each format, and manifests of
    each kind of fault."""
    crafted = corpus.crafted()
    hostile = [c for c in crafted if c.family not in ("wrong-extension", "zero-bytes")]
    files = hostile + [c for c in crafted if c.family == "wrong-extension"][::14] \
        + [c for c in crafted if c.family == "zero-bytes"][:2]
    mutated = corpus.file_cases(len(crafted) + 70)[len(crafted):]
    files += [c for c in mutated if c.family.endswith(("-pdf", "-png", "-jpg"))][:60 - 12 - len(files)]
    wanted = ("encoding-gbk", "encoding-utf-16-bom", "encoding-invalid-utf8", "encoding-nul",
              "encoding-surrogate-json", "structure-empty", "missing-column-档号",
              "duplicate-archive-no", "formula-题名", "over-long-档号", "json-deep-nesting",
              "file-name-too-long")
    manifests, seen = [], set()
    for m in corpus.manifest_cases(PREFIX):
        if m.family in wanted and m.family not in seen:
            manifests.append(m)
            seen.add(m.family)
    return files, manifests


def test_sixty_malformed_inputs_through_the_real_pipeline(ctx, tmp_path):
    files, manifests = _sample()
    assert len(files) + len(manifests) == 60, (len(files), len(manifests))
    report = Report()
    baseline = ingest_baseline(tmp_path, PREFIX)
    before = fingerprint(list(baseline))
    assert len([d for d in before if "#p" in d]) == 7, f"baseline pages: {sorted(before)}"
    run_file_cases(files, tmp_path / "files", prefix=PREFIX, baseline=baseline, report=report,
                   batch=30)
    run_manifest_cases(manifests, tmp_path / "manifests", report=report)
    check_baseline(report, before, list(baseline))
    lines: list[str] = []
    print_report(report, echo=lines.append)
    summary = "\n".join(lines)
    assert report.inputs == 60, summary
    assert not report.crashes, f"WORKER CRASHES:\n{summary}"
    assert not report.unclear, f"UNCLEAR ERRORS (not a reason in Chinese):\n{summary}"
    assert report.baseline_intact == 4 and not report.baseline_damage, \
        f"LOST OR CHANGED by a malformed re-ingest: {report.baseline_damage}\n{summary}"
    assert report.clear >= 40, f"expected most of the sample refused clearly:\n{summary}"


def test_an_unreadable_path_fails_its_file_with_a_reason_not_an_internal_error(ctx, tmp_path):
    """Found by the full run: a file name longer than the file system allows raised OSError
    out of the file phase, which the CLI reported as 内部错误."""
    from search_app.ingest.service import _read_source

    with pytest.raises(IngestError) as caught:
        _read_source(tmp_path / ("长" * 100 + ".pdf"))
    assert is_clear(str(caught.value)) and "File name too long" in str(caught.value), caught.value
