"""Synthetic archive pages for tests, the demo data set and the benchmarks.

Not part of the product: the pipeline package holds pipeline stages only. `render` is the small,
clean page renderer the unit and demo tests use; `scan`, `pdf` and `corpus` build realistic
pages (full A4, 200/300 dpi, skew, paper, blur, speckle, traditional script, several people per
page, every personal-data format) with their ground truth: each value's kind, its span in the
page text as printed and its glyph boxes on the page.
"""
from __future__ import annotations

from tests.synth.render import (find_cjk_font, load_cjk_font, render_page, write_image_pdf,
                                write_jpeg, write_png, write_text_pdf, write_tiff)

__all__ = ["find_cjk_font", "load_cjk_font", "render_page", "write_image_pdf", "write_jpeg",
           "write_png", "write_text_pdf", "write_tiff"]
