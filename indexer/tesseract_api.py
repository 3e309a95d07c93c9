"""Tesseract in the worker process, through its C API (libtesseract, ctypes), models loaded once.

Why not a `tesseract` process per page (pytesseract): every start loads chi_sim + chi_tra
again. Measured 2026-12-01 on this 2-core machine on the OCR benchmark's prepared pages: the same
TSV, byte for byte, for 2.0 / 3.4 CPU s a page in process against 2.4 / 3.9 s for the command
(start-up, reading the PGM it was written, writing the TSV); loading the two models takes ~0.3
CPU s, once per process here. No file of the unredacted page is written either.

One engine per language set, used under a lock (a web process's threads take turns). A parent
that forks page processes loads it first (`preload`, from search_app.ingest.pagework.warm_up):
the children inherit a copy of it, as they inherit the text stages' dictionaries, instead of
each loading the models again for every job (0.3 CPU s a process); the model pages stay shared
copy-on-write. That is safe because the parent never ran a recognition with it, so no OpenMP
thread exists at the fork (and with OMP_THREAD_LIMIT=1 none is ever started), and each process
then uses its own copy of the engine's memory. The library is loaded on first use, after
start-up has set OMP_THREAD_LIMIT (search_app.config.init_process), which OpenMP reads when it
is loaded. `available()` is False where the shared library is missing; indexer.ocr then runs
the command as before.
"""
from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import threading
import time

from PIL.Image import Image

_PSM_SINGLE_BLOCK = 6  # --psm 6, as the command was run
_lock = threading.Lock()
_lib: ctypes.CDLL | None = None
_tried = False
_engines: dict[str, int] = {}  # langs -> TessBaseAPI handle (a forked child's copy is its own)


class EngineError(RuntimeError):
    """Tesseract could not be initialised or failed on the page."""


class EngineTimeout(EngineError):
    """Recognition passed its deadline and was cancelled."""


def _load() -> ctypes.CDLL | None:
    global _lib, _tried
    if _tried:
        return _lib
    _tried = True
    name = ctypes.util.find_library("tesseract") or "libtesseract.so.5"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    vp, ci, cp = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    for fn, args, res in (
            ("TessBaseAPICreate", [], vp), ("TessBaseAPIDelete", [vp], None),
            ("TessBaseAPIEnd", [vp], None), ("TessBaseAPIInit3", [vp, cp, cp], ci),
            ("TessBaseAPISetPageSegMode", [vp, ci], None),
            ("TessBaseAPISetImage", [vp, cp, ci, ci, ci, ci], None),
            ("TessBaseAPIRecognize", [vp, vp], ci), ("TessBaseAPIGetTsvText", [vp, ci], vp),
            ("TessBaseAPIClear", [vp], None), ("TessDeleteText", [vp], None),
            ("TessMonitorCreate", [], vp), ("TessMonitorDelete", [vp], None),
            ("TessMonitorSetDeadlineMSecs", [vp, ci], None)):
        f = getattr(lib, fn, None)
        if f is None:  # an old library without the C API we use
            return None
        f.argtypes, f.restype = args, res
    _lib = lib
    return lib


def available() -> bool:
    return _load() is not None


def preload(langs: str) -> bool:
    """Load the engine for `langs` now (in a parent, before it forks); False without the
    library. Loading errors surface on the first page, as they would without this."""
    lib = _load()
    if lib is None:
        return False
    with _lock:
        try:
            _engine(lib, langs)
        except EngineError:
            return False
    return True


def _engine(lib: ctypes.CDLL, langs: str) -> int:
    key = langs
    handle = _engines.get(key)
    if handle is None:
        handle = lib.TessBaseAPICreate()
        if lib.TessBaseAPIInit3(handle, None, langs.encode()) != 0:
            lib.TessBaseAPIDelete(handle)
            raise EngineError(f"无法加载 Tesseract 语言模型 {langs}")
        lib.TessBaseAPISetPageSegMode(handle, _PSM_SINGLE_BLOCK)
        _engines[key] = handle
    return handle


@atexit.register
def _close() -> None:
    """End this process's engines (Tesseract reports its model cache as leaked otherwise)."""
    if _lib is None:
        return
    for handle in _engines.values():
        _lib.TessBaseAPIEnd(handle)
        _lib.TessBaseAPIDelete(handle)
    _engines.clear()


def recognise_tsv(img: Image, *, langs: str, timeout: float) -> str:
    """Tesseract's TSV for an 8-bit gray or RGB image (no header row), as `tesseract img stdout
    --psm 6 tsv` prints it. EngineTimeout after `timeout` seconds (the monitor's deadline)."""
    lib = _load()
    if lib is None:
        raise EngineError("libtesseract 不可用")
    if img.mode not in ("L", "RGB"):
        raise ValueError(f"image mode {img.mode} is not 8-bit gray or RGB")
    depth = 1 if img.mode == "L" else 3
    data = img.tobytes()
    with _lock:
        handle = _engine(lib, langs)
        monitor = lib.TessMonitorCreate()
        try:
            lib.TessBaseAPISetImage(handle, data, img.width, img.height, depth, img.width * depth)
            lib.TessMonitorSetDeadlineMSecs(monitor, max(1, int(timeout * 1000)))
            start = time.monotonic()
            if lib.TessBaseAPIRecognize(handle, monitor) != 0:
                if time.monotonic() - start >= timeout:
                    raise EngineTimeout(f"{timeout} s")
                raise EngineError("Tesseract 识别失败")
            ptr = lib.TessBaseAPIGetTsvText(handle, 0)
            try:
                return ctypes.string_at(ptr).decode("utf-8", "replace") if ptr else ""
            finally:
                if ptr:
                    lib.TessDeleteText(ptr)
        finally:
            lib.TessBaseAPIClear(handle)
            lib.TessMonitorDelete(monitor)


def tsv_to_dict(tsv: str) -> dict[str, list]:
    """The TSV as pytesseract's Output.DICT gives it: the columns by name, every number an int
    (the confidence truncated, as pytesseract does: 84.3 -> 84), so the confidence thresholds
    downstream see what they saw before."""
    cols = ("level", "page_num", "block_num", "par_num", "line_num", "word_num", "left", "top",
            "width", "height", "conf", "text")
    out: dict[str, list] = {c: [] for c in cols}
    for line in tsv.splitlines():
        parts = line.split("\t", 11)
        if len(parts) < 11 or not parts[0].isdigit():
            continue
        if len(parts) == 11:
            parts.append("")
        for c, v in zip(cols[:10], parts[:10]):
            out[c].append(int(v))
        out["conf"].append(int(float(parts[10])))
        out["text"].append(parts[11])
    return out
