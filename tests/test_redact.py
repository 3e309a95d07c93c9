"""Unit tests for indexer.redact, plus an end-to-end recall/no-leak check over noisy OCR text."""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import unicodedata
from pathlib import Path

import pytest

from indexer.pii import PiiMatch, detect
from indexer.redact import mask_value, redact

POLICY_FILE = Path(__file__).resolve().parents[1] / "indexer" / "data" / "mask_policy.json"
PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45,
             46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83, 91]
FILLER = "档案户籍姓名住址单位工作年月日出生民族汉男女北京上海广州市区县街道号楼室，。：；（）、"


def id18(body17: str) -> str:
    """Independent GB 11643 check: weight 2**(17-i) mod 11, check value (12 - sum) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    check = (12 - total % 11) % 11
    return body17 + ("X" if check == 10 else str(check))


def assert_not_leaked(output: str, values: list[str]) -> None:
    for value in values:
        assert value not in output, f"canonical value {value} leaked into {output!r}"


# --- mask_value ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind,value,masked", [
    ("id_number", "110105199001011237", "110105************"),
    ("id_number", "11010519491231002X", "110105************"),
    ("phone", "13812345678", "138****5678"),
    ("landline", "01062751234", "0106*****34"),
    ("bank_card", "6222021234567890123", "6222***************"),
    ("name", "张三丰", "张**"),
    ("name", "欧阳娜娜", "欧***"),
])
def test_mask_value(kind: str, value: str, masked: str) -> None:
    assert mask_value(kind, value) == masked


def test_mask_keeps_length_for_ids_and_phones() -> None:
    for kind, value in [("id_number", "110105491231002"), ("phone", "13912345678")]:
        assert len(mask_value(kind, value)) == len(value)


def test_value_too_short_for_its_rule_is_fully_masked() -> None:
    assert mask_value("name", "张") == "*"
    assert mask_value("phone", "1381234") == "*******"


def test_unknown_kind_names_the_kind() -> None:
    with pytest.raises(ValueError, match="passport"):
        mask_value("passport", "E12345678")
    with pytest.raises(ValueError, match="mask_char"):
        mask_value("mask_char", "1")


def test_policy_file_covers_every_detected_kind() -> None:
    policy = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    assert {"id_number", "phone", "landline", "bank_card", "name", "address"} <= set(policy["kinds"])


# --- redact -------------------------------------------------------------------------------

def test_redact_replaces_whole_noisy_spans() -> None:
    text = "身份证11010519491231002x，电话+86 138 1234 5678，座机010-62751234。"
    found = detect(text)
    out = redact(text, found)
    assert out == "身份证110105************，电话138****5678，座机0106*****34。"
    assert_not_leaked(out, [m.value for m in found])
    assert "1234 5678" not in out


def test_redact_noisy_fullwidth_and_letters() -> None:
    text = "手机１３８1234S6７８，卡号"
    found = detect(text)
    assert [m.value for m in found] == ["13812345678"]
    out = redact(text, found)
    assert out == "手机138****5678，卡号"
    assert_not_leaked(out, ["13812345678", "1234S6"])


def test_redact_without_matches_is_identity() -> None:
    assert redact("无个人信息", []) == "无个人信息"


def test_redact_accepts_unsorted_matches() -> None:
    text = "13812345678 和 13987654321"
    found = detect(text)
    assert redact(text, list(reversed(found))) == "138****5678 和 139****4321"


def test_redact_rejects_overlapping_or_out_of_range_spans() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        redact("13812345678", [PiiMatch("phone", 0, 11, "13812345678"),
                               PiiMatch("phone", 5, 11, "13812345678")])
    with pytest.raises(ValueError, match="outside"):
        redact("short", [PiiMatch("phone", 0, 11, "13812345678")])


def test_redact_unknown_kind_fails_closed() -> None:
    with pytest.raises(ValueError, match="passport"):
        redact("E12345678", [PiiMatch("passport", 0, 9, "E12345678")])


# --- property-style: recall and no leak over random noisy text ----------------------------

def random_id(rng: random.Random) -> str:
    first, last = dt.date(1900, 1, 1).toordinal(), dt.date.today().toordinal()
    born = dt.date.fromordinal(rng.randint(first, last))
    region = f"{rng.choice(PROVINCES)}{rng.randint(0, 9999):04d}"
    return id18(f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}")


def random_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"


CONFUSIONS = {"0": "Oo", "1": "Il|", "5": "S"}


def add_noise(rng: random.Random, value: str) -> str:
    """OCR-like rendering: up to 3 splits by one space or hyphen, full-width digits, and letter
    confusions only where both neighbours are digits (the detector's documented tolerance)."""
    cuts: list[int] = []
    for cut in sorted(rng.sample(range(2, len(value) - 1), rng.randint(0, 3))):
        if not cuts or cut - cuts[-1] >= 2:
            cuts.append(cut)
    chars: list[str] = []
    for i, ch in enumerate(value):
        if i in cuts:
            chars.append(rng.choice(" -"))
        if ch == "X":
            chars.append(rng.choice("Xx"))
        elif rng.random() < 0.2:
            chars.append(chr(ord(ch) + 0xFEE0))  # full-width digit
        else:
            chars.append(ch)

    def is_digit(c: str) -> bool:
        return unicodedata.decimal(c, None) is not None

    for i in range(1, len(chars) - 1):
        d = unicodedata.decimal(chars[i], None)
        if (d is not None and str(d) in CONFUSIONS and is_digit(chars[i - 1])
                and is_digit(chars[i + 1]) and rng.random() < 0.3):
            chars[i] = rng.choice(CONFUSIONS[str(d)])
    return "".join(chars)


def filler(rng: random.Random, lo: int, hi: int) -> str:
    return "".join(rng.choice(FILLER) for _ in range(rng.randint(lo, hi)))


def digits_only(text: str) -> str:
    """Output digits with separators dropped, so a leak split by spaces still shows up."""
    return re.sub(r"[ \-]", "", unicodedata.normalize("NFKC", text))


def test_random_noisy_ids_and_phones_are_found_and_redacted() -> None:
    rng = random.Random(20240611)
    total = 0
    while total < 500:
        parts = [filler(rng, 0, 6)]
        expected: list[tuple[str, int, int, str]] = []
        for _ in range(rng.randint(1, 5)):
            if rng.random() < 0.5:
                kind, value, prefix = "id_number", random_id(rng), ""
            else:
                kind, value = "phone", random_phone(rng)
                prefix = rng.choice(["", "", "+86", "+86 ", "86", "86-", "0086", "0086 "])
            noisy = prefix + add_noise(rng, value)
            start = len("".join(parts))
            expected.append((kind, start, start + len(noisy), value))
            parts += [noisy, filler(rng, 1, 6)]
            total += 1
        text = "".join(parts)

        found = [(m.kind, m.start, m.end, m.value) for m in detect(text)]
        assert found == expected, f"recall/span mismatch in {text!r}"

        out = redact(text, detect(text))
        flat = digits_only(out)
        for _, _, _, value in expected:
            for i in range(len(value) - 7):
                run = value[i:i + 8]
                assert run not in flat, f"8-digit run {run} of {value} leaked into {out!r}"
