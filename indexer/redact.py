"""Replace detected identifiers with masked display forms before text is indexed or shown.

How much of each kind stays visible is a policy decision, not code: it lives in one JSON file
(data/mask_policy.json) so that reviewers can audit and change it without touching the detector.

The policy rests on one rule: a mask must not let a reader who may not unmask a kind recover the
value from what is visible plus what the page or one look-up tells them. Hence:
* ID numbers keep only the 6-digit region (110105************). The birth date is often printed
  on the same page and the check digit is a function of the rest, so showing either (the old
  110105********1234) left two or three look-ups between a reader and the full number.
* Bank cards keep only the first 4 digits (the bank, not the person): the last digit is the Luhn
  check digit, which would narrow every guess tenfold.
* Phones keep 3 + 4 (138****5678) as is common practice: 10^4 candidates remain, far more than a
  look-up limit allows. Landlines keep 4 + 2 of a number with area code; `min_hidden` makes a
  short number (a 7- or 8-digit local landline) hide at least that many digits, trimming the
  visible tail first, so no rule ever shows all but one or two digits.
* Bare numbers found by the fail-safe (kind "number") are masked entirely: nobody knows what
  they are, so no part of them is known to be safe to show.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from indexer.address import admin_prefix_len
from indexer.pii import PiiMatch

__all__ = ["mask_value", "redact"]

_POLICY_PATH = Path(__file__).resolve().parent / "data" / "mask_policy.json"


@dataclass(frozen=True)
class _Rule:
    keep_start: int
    keep_end: int
    # At least this many characters hidden, whatever the length (trims keep_end, then keep_start).
    min_hidden: int = 0
    # Addresses: also keep the leading province/city/district-or-county, however long it is.
    keep_admin_prefix: bool = False


@dataclass(frozen=True)
class _Policy:
    mask_char: str
    rules: Mapping[str, _Rule]


@functools.lru_cache(maxsize=1)
def _policy() -> _Policy:
    """Read and check the policy once; a malformed file must stop indexing, not weaken masking."""
    raw = json.loads(_POLICY_PATH.read_text(encoding="utf-8"))
    mask_char = raw.get("mask_char")
    if not isinstance(mask_char, str) or len(mask_char) != 1:
        raise ValueError(f"{_POLICY_PATH}: mask_char must be a single character")
    rules: dict[str, _Rule] = {}
    for kind, spec in raw.get("kinds", {}).items():
        keep = (spec.get("keep_start"), spec.get("keep_end"))
        if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in keep):
            raise ValueError(f"{_POLICY_PATH}: {kind}: keep_start/keep_end must be ints >= 0")
        admin = spec.get("keep_admin_prefix", False)
        if not isinstance(admin, bool):
            raise ValueError(f"{_POLICY_PATH}: {kind}: keep_admin_prefix must be true or false")
        min_hidden = spec.get("min_hidden", 0)
        if not isinstance(min_hidden, int) or isinstance(min_hidden, bool) or min_hidden < 0:
            raise ValueError(f"{_POLICY_PATH}: {kind}: min_hidden must be an int >= 0")
        rules[kind] = _Rule(*keep, min_hidden=min_hidden, keep_admin_prefix=admin)
    return _Policy(mask_char, MappingProxyType(rules))


def mask_value(kind: str, value: str) -> str:
    """Masked form of a canonical value, same length so the layout of a page stays readable.

    A value too short for its rule is masked entirely: the rule limits what is shown, and
    showing every character would defeat it.
    """
    policy = _policy()
    rule = policy.rules.get(kind)
    if rule is None:
        raise ValueError(f"no mask policy for PII kind {kind!r}")
    keep_start, keep_end = rule.keep_start, rule.keep_end
    if rule.keep_admin_prefix:
        keep_start = max(keep_start, admin_prefix_len(value))
    if len(value) <= keep_start + keep_end:
        return policy.mask_char * len(value)
    shown = max(0, len(value) - rule.min_hidden)
    if keep_start + keep_end > shown:
        keep_end = max(0, shown - keep_start)
        keep_start = min(keep_start, shown)
    hidden = len(value) - keep_start - keep_end
    if hidden <= 0:
        return policy.mask_char * len(value)
    tail = value[len(value) - keep_end:] if keep_end else ""
    return value[:keep_start] + policy.mask_char * hidden + tail


def redact(text: str, matches: Sequence[PiiMatch]) -> str:
    """Text with every match span replaced by its masked value.

    Overlapping or out-of-range spans raise instead of being guessed at: they mean the caller
    mixed offsets from different texts, and a guess could leave an identifier in the index.
    """
    ordered = sorted(matches, key=lambda m: (m.start, m.end))
    parts: list[str] = []
    pos = 0
    for m in ordered:
        if not 0 <= m.start < m.end <= len(text):
            raise ValueError(
                f"{m.kind} span [{m.start}, {m.end}) outside text of length {len(text)}"
            )
        if m.start < pos:
            raise ValueError(f"{m.kind} span [{m.start}, {m.end}) overlaps the previous match")
        parts.append(text[pos:m.start])
        parts.append(mask_value(m.kind, m.value))
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)
