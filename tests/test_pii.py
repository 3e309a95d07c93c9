"""Unit tests for indexer.pii: every detector with valid values and their near misses."""
from __future__ import annotations

import pytest

from indexer.pii import PiiMatch, detect, luhn_ok, valid_id15, valid_id18


def id18(body17: str) -> str:
    """Independent GB 11643 check: weight 2**(17-i) mod 11, check value (12 - sum) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body17))
    check = (12 - total % 11) % 11
    return body17 + ("X" if check == 10 else str(check))


def luhn_complete(body: str) -> str:
    """Append the digit that makes body pass Luhn, computed by brute force over 0-9."""
    for d in "0123456789":
        s = body + d
        digits = [int(c) for c in reversed(s)]
        total = sum(digits[0::2]) + sum(sum(divmod(2 * d2, 10)) for d2 in digits[1::2])
        if total % 10 == 0:
            return s
    raise AssertionError("unreachable")


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.value) for m in detect(text)]


VALID_ID = "110105199001011232"
VALID_ID_X = "11010519491231002X"
CARD = luhn_complete("622202123456789012")  # 19 digits


# --- ID numbers ---------------------------------------------------------------------------

def test_known_valid_ids() -> None:
    assert id18("11010519491231002") == VALID_ID_X
    assert id18("11010519900101123") == VALID_ID
    assert valid_id18(VALID_ID)
    assert valid_id18(VALID_ID_X)


def test_commonly_quoted_example_has_wrong_checksum() -> None:
    # 110105199001011237 is often used as a sample ID, but its check digit should be 2.
    assert not valid_id18("110105199001011237")
    assert kinds("身份证号110105199001011237住址") == []


def test_wrong_checksum_rejected() -> None:
    for wrong in "013456789X":
        assert not valid_id18(VALID_ID[:17] + wrong)


def test_impossible_date_rejected() -> None:
    body = "110105" + "19900230" + "123"  # 30 February
    assert not valid_id18(id18(body))
    assert kinds(id18(body)) == []


@pytest.mark.parametrize("birth", ["18991231", "19901301", "19900000", "29990101"])
def test_out_of_range_dates_rejected(birth: str) -> None:
    assert not valid_id18(id18("110105" + birth + "123"))


@pytest.mark.parametrize("region", ["00", "10", "16", "20", "39", "99"])
def test_bad_region_rejected(region: str) -> None:
    assert not valid_id18(id18(region + "0105" + "19900101" + "123"))


def test_lowercase_x_detected_and_canonicalised() -> None:
    text = "证件：11010519491231002x。"
    assert valid_id18(VALID_ID_X.lower())
    assert detect(text) == [PiiMatch("id_number", 3, 21, VALID_ID_X)]


def test_id_embedded_in_chinese_text() -> None:
    text = f"身份证号{VALID_ID}住址北京"
    assert detect(text) == [PiiMatch("id_number", 4, 22, VALID_ID)]


def test_legacy_15_digit_id() -> None:
    legacy = "110105" + "491231" + "002"
    assert valid_id15(legacy)
    assert kinds(f"旧证{legacy}号") == [("id_number", legacy)]
    assert not valid_id15("110105" + "490230" + "002")  # 30 February
    assert not valid_id15("990105" + "491231" + "002")  # no such province
    assert kinds("990105491231002") == []


@pytest.mark.parametrize("text", [f"1{VALID_ID}", f"{VALID_ID}1", f"12{VALID_ID}"])
def test_stray_digits_glued_to_an_id_leave_the_id_found(text: str) -> None:
    # OCR glues one or two stray digits to an ID (a colon read as 59): the check digit still
    # finds the ID inside; the stray digits alone are nobody's number.
    assert kinds(text) == [("id_number", VALID_ID)], f"ID {VALID_ID} inside {text} not found"


def test_long_reference_digits_disqualify_id() -> None:
    assert kinds(f"12{VALID_ID}34") == []  # 22 digits: a reference (the fail-safe masks it)


def test_noisy_id_span_covers_noise() -> None:
    noisy = "１１0105 1990O101 1232"
    text = f"号码{noisy}。"
    assert detect(text) == [PiiMatch("id_number", 2, 2 + len(noisy), VALID_ID)]


def test_valid_id_that_also_passes_luhn_is_an_id() -> None:
    # Regions 41-46 start with 4, so such an ID also looks like a bank card prefix-wise.
    both = next(
        v for seq in range(1000)
        if (v := id18(f"41010219800101{seq:03d}"))[-1] != "X" and luhn_ok(v)
    )
    assert valid_id18(both)
    assert kinds(both) == [("id_number", both)]


def test_bad_checksum_18_digits_can_still_be_a_card() -> None:
    card18 = luhn_complete("62220212345678901")
    assert not valid_id18(card18)
    assert kinds(card18) == [("bank_card", card18)]


# --- mobile phones ------------------------------------------------------------------------

@pytest.mark.parametrize("noisy", [
    "13812345678", "+8613812345678", "+86 138 1234 5678", "86 13812345678", "008613812345678",
    "138 1234 5678", "1381 234 5678", "138-1234-5678", "１３８１２３４５６７８", "+86-138１２３45678",
])
def test_phone_variants(noisy: str) -> None:
    text = f"联系电话：{noisy}，谢谢"
    assert detect(text) == [PiiMatch("phone", 5, 5 + len(noisy), "13812345678")]


@pytest.mark.parametrize("noisy,value", [
    ("1381O345678", "13810345678"), ("1381o345678", "13810345678"),
    ("138l2345678", "13812345678"), ("138I2345678", "13812345678"),
    ("138|2345678", "13812345678"), ("1381234S678", "13812345678"),
])
def test_phone_letter_confusions(noisy: str, value: str) -> None:
    assert detect(f"电话{noisy}") == [PiiMatch("phone", 2, 13, value)]


def test_confusable_letter_at_edge_is_not_a_digit() -> None:
    # "l3812345678" would need the l at the edge of the run to be read as 1: not trusted.
    assert kinds("电话l3812345678") == []
    assert kinds("SOS 13812345678 OK") == [("phone", "13812345678")]


@pytest.mark.parametrize("text", [
    "12345678901", "10012345678", "02012345678",  # not 1[3-9]
    "1381234567", "138123456789",  # too short / too long
    "913812345678", "138123456780", "12345678901234567890",  # glued digits
])
def test_not_phones(text: str) -> None:
    assert kinds(f"编号{text}号") == []


@pytest.mark.parametrize("text", [
    "1 3 8 1 2 3 4 5 6 7 8", "13 81 23 45 67 89 12", "138 1 2 3456 78",
])
def test_rows_of_short_numbers_are_not_one_number(text: str) -> None:
    assert kinds(f"成绩：{text}。") == []


def test_one_stray_space_is_tolerated() -> None:
    assert kinds("电话1 3812345678") == [("phone", "13812345678")]


def test_phone_next_to_other_numbers_split_by_space() -> None:
    text = "2023-01-01 13812345678 共3页"
    assert detect(text) == [PiiMatch("phone", 11, 22, "13812345678")]


# --- landlines ----------------------------------------------------------------------------

@pytest.mark.parametrize("noisy,value", [
    ("010-62751234", "01062751234"), ("0755 8888 1234", "075588881234"),
    ("021-6275123", "0216275123"), ("0571-8765432", "05718765432"),
    # Unseparated: area codes are prefix-free, so the cut is known (issue 8: 02327798695 and
    # 057148782703 were not landlines; the fail-safe now masks such a run whatever it is).
    ("01062751234", "01062751234"), ("057148782703", "057148782703"),
])
def test_landlines(noisy: str, value: str) -> None:
    assert detect(f"电话{noisy}转") == [PiiMatch("landline", 2, 2 + len(noisy), value)]


@pytest.mark.parametrize("text", ["010-627512", "010-627512345", "12-62751234", "0106275123456",
                                  "01162751234", "01012345678"])
def test_not_landlines(text: str) -> None:
    assert kinds(f"电话{text}转") == []


# --- bank cards ---------------------------------------------------------------------------

def test_bank_card_luhn_pass() -> None:
    grouped = f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:16]} {CARD[16:]}"
    assert detect(f"卡号{grouped}") == [PiiMatch("bank_card", 2, 2 + len(grouped), CARD)]
    visa = luhn_complete("411111111111111")
    assert kinds(visa) == [("bank_card", visa)]


def test_bank_card_luhn_fail() -> None:
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert not luhn_ok(bad)
    assert kinds(bad) == []


@pytest.mark.parametrize("body", ["955880123456789012", "378282246310005", "9400111234567"
                                  "89012", "3566002020360505"[:-1]])
def test_bank_card_any_prefix(body: str) -> None:
    # Issue 8: cards whose BIN starts with 9 (9558…) or 3 passed in plaintext; every 16-19
    # digit Luhn-valid run is a card whatever its first digit.
    card = luhn_complete(body)
    assert 16 <= len(card) <= 19 and luhn_ok(card)
    found = kinds(f"卡号 {card} 开户行")
    assert found == [("bank_card", card)], f"card {card} not detected as a card: {found}"


def test_fifteen_digit_luhn_number_is_not_a_card() -> None:
    amex_like = luhn_complete("37828224631000")  # 15 digits: shorter than any bank card here
    assert luhn_ok(amex_like)
    assert kinds(amex_like) == []


def test_luhn_known_values() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")
    assert not luhn_ok("")
    assert not luhn_ok("7992739871a")


# --- combined -----------------------------------------------------------------------------

def test_multiple_matches_sorted_and_disjoint() -> None:
    text = f"张三，身份证{VALID_ID_X}，手机+86 138 1234 5678，座机010-62751234，卡号{CARD}。"
    found = detect(text)
    assert [m.kind for m in found] == ["id_number", "phone", "landline", "bank_card"]
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))
    assert text[found[1].start:found[1].end] == "+86 138 1234 5678"
