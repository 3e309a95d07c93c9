"""Settings are parsed and validated when the app starts (search_app.config), so a misspelt
value stops start-up with its name instead of failing every page of the next batch."""
from __future__ import annotations

import base64
import os

import pytest

from search_app.config import ConfigError, load_settings


def _env(**extra: str) -> dict[str, str]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    # Redis always needs its password (test_security_engine.py checks the refusal without one)
    return {"SECRET_KEY": "x", "ARCHIVE_DATA_KEY": key, "ARCHIVE_BLIND_INDEX_KEY": key,
            "REDIS_URL": "redis://:a-password@127.0.0.1:6379/0", **extra}


def test_defaults_are_typed():
    cfg = load_settings(_env())
    assert cfg["OCR_PREPROCESS"] == ("grayscale", "crop", "deskew", "scale", "denoise", "binarise")
    assert cfg["AUDIT_WORK_HOURS"] == (8, 19)
    assert isinstance(cfg["SEARCH_PAGE_SIZE"], int)


@pytest.mark.parametrize("name,value,says", [
    ("OCR_PREPROCESS", "grayscale,deskw", "deskw"),
    ("AUDIT_WORK_HOURS", "19-08", "AUDIT_WORK_HOURS"),
    ("AUDIT_WORK_HOURS", "8", "AUDIT_WORK_HOURS"),
    ("AUDIT_TIMEZONE", "Asia/Beijing", "Asia/Beijing"),
    ("SEARCH_PAGE_SIZE", "twenty", "SEARCH_PAGE_SIZE"),
])
def test_a_malformed_setting_stops_start_up_naming_it(name, value, says):
    with pytest.raises(ConfigError, match=says):
        load_settings(_env(**{name: value}))


def test_an_empty_step_list_means_ocr_the_page_as_scanned():
    assert load_settings(_env(OCR_PREPROCESS=" ")) ["OCR_PREPROCESS"] == ()
