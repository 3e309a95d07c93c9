"""Test identities for the privacy tests: valid GB 11643 ID numbers (computed check digit),
mobile numbers and names, so the detectors treat them as the real thing."""
from __future__ import annotations

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def id_number(region: str, birth: str, seq: str) -> str:
    """An 18-digit ID with its check digit: region (6), birth date YYYYMMDD, sequence (3)."""
    body = f"{region}{birth}{seq}"
    assert len(body) == 17 and body.isdigit(), body
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


ID_A = id_number("110105", "19900307", "123")
ID_B = id_number("310104", "19851122", "456")
ID_C = id_number("440106", "19720615", "038")
PHONE_A = "13912345678"
NAME_A = "王建国"
ADDRESS_A = "北京市海淀区中关村南大街27号院3号楼502室"
