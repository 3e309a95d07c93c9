"""Regression test for what the ingest fuzz run (bench/fuzz_ingest.py) found in image decoding:
Pillow raises TypeError ("Missing dimensions") while counting the frames of a TIFF whose later
frame has no ImageWidth tag; that escaped the file phase as 内部错误：TypeError. It is now the
file's own clear refusal, before any page is fanned out."""
from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fuzz_corpus import tiff_frames  # noqa: E402

from indexer.pages import checked_page_count, load_page  # noqa: E402
from indexer.types import IngestError  # noqa: E402


def _tiff_without_width_in_frame_2() -> bytes:
    data = bytearray(tiff_frames((10, 10)))
    first = struct.unpack_from("<I", data, 4)[0]
    second = struct.unpack_from("<I", data, first + 2 + 12 * struct.unpack_from("<H", data, first)[0])[0]
    for k in range(struct.unpack_from("<H", data, second)[0]):
        at = second + 2 + 12 * k
        if struct.unpack_from("<H", data, at)[0] == 256:  # ImageWidth -> an unknown private tag
            struct.pack_into("<H", data, at, 65000)
    return bytes(data)


def test_a_tiff_frame_without_dimensions_is_a_clear_refusal_not_a_type_error():
    data = _tiff_without_width_in_frame_2()
    with pytest.raises(IngestError, match="图像文件损坏") as caught:
        n = checked_page_count(data)
        for page_no in range(1, n + 1):
            load_page(data, page_no)
    assert "TypeError" not in str(caught.value), caught.value
