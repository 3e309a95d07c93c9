"""An OCR process killed while Tesseract reads a page (Celery's hard time limit, the OOM killer)
leaves the unredacted page in the temp folder; the worker removes such leftovers at start and
every OCR process now and then. The test kills a real OCR mid-page and names the file left."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.ocr import sweep_stale_inputs

pytestmark = pytest.mark.integration

_KILLED = """
import os, sys
from PIL import Image
from indexer import ocr
img = Image.new("L", (800, 300), 255)
with ocr._input_file(img) as path:
    print(path, flush=True)
    os.kill(os.getpid(), 9)   # killed while Tesseract would be reading it
"""


def test_a_page_left_by_a_killed_ocr_process_is_swept(tmp_path):
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", _KILLED], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], timeout=120)
    left = [p.name for p in tmp_path.iterdir()]
    assert out.returncode == -9 and left, f"no OCR input was left to sweep: {out.stderr[-500:]}"
    assert sweep_stale_inputs(str(tmp_path)) == [], "a fresh OCR input (maybe still read) was removed"
    old = time.time() - 3600
    for name in left:
        os.utime(tmp_path / name, (old, old))
    swept = sweep_stale_inputs(str(tmp_path))
    still = [p.name for p in tmp_path.iterdir()]
    assert not still, f"the unredacted page of a killed OCR process stays on disk: {still}"
    assert sorted(swept) == sorted(left)
    other = tmp_path / "notes.txt"
    other.write_text("x")
    os.utime(other, (old, old))
    sweep_stale_inputs(str(tmp_path))
    assert other.exists(), "the sweep removed a file that is not an OCR leftover"


def test_the_worker_sweeps_at_start(tmp_path, monkeypatch):
    import tempfile

    from workers.celery_app import _warm_stages

    leftover = tmp_path / "tess_abcd.tsv"
    leftover.write_text("level\tpage_num\ttext\n5\t1\t王建国\n")
    old = time.time() - 3600
    os.utime(leftover, (old, old))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr("search_app.ingest.pagework.warm_up", lambda: None)
    _warm_stages()
    assert not leftover.exists(), "the OCR text of a killed process survived a worker start"
