"""Free text on its way into the audit log: masked like page text, each value kept as a keyed hash.

A purpose such as "核实110105199003071234的户籍" or a query typed as a phone number would
otherwise sit verbatim in every record and every CSV an auditor exports (DESIGN.md rule 6). The
same detectors that mask page text run over every free-text field (query, purpose, reason and
every string inside `filters`); each value found is replaced by its masked form and recorded as
the first 16 hex digits of its blind-index hash (the same keyed hash, truncated the same way, as
a look-up's `value_hmac`), in `filters["pii_hmacs"]`. An auditor can still see that three users
searched the same ID number, and can find them by typing the number (hashed on the server), but
the log itself never holds the number.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flask import current_app

from indexer.pipeline import find_pii
from indexer.redact import redact
from indexer.types import ArchiveMeta
from indexer.vocab import PII_KINDS
from search_app.crypto import vault_from_config

HMAC_CHARS = 16  # as lookup_pii's value_hmac: enough to tell values apart, useless to invert
PII_HMACS = "pii_hmacs"
# Filter keys whose values are identifiers, not free text: hashes and batch ids (a hex hash may
# hold a run of digits the fail-safe number detector would mask, and a masked hash no longer
# matches), account names (stored in clear in the record's username column anyway: "bad-12345678"
# must stay findable), document ids and 档号.
_MACHINE_KEYS = frozenset({PII_HMACS, "value_hmac", "pii", "batch", "batches", "target", "holder",
                           "proposed_by", "username", "doc_id", "archive_nos", "approval_ref"})
_NO_META = ArchiveMeta(archive_no="", title="", category="", unit="", year=0, classification="",
                       file="")


def value_hmac(kind: str, value: str) -> str:
    """The truncated keyed hash under which the log remembers one PII value."""
    return vault_from_config(current_app.config).blind_index(kind, value)[:HMAC_CHARS]


def candidate_hmacs(typed: str) -> list[str]:
    """Every hash an auditor's typed value may have been recorded under.

    The value is detected like any free text (so "张伟 13912345678" yields two hashes); when the
    detectors name no kind (a bare name out of context, an address fragment), it is hashed as
    every kind, since the auditor does not have to say which kind they mean.
    """
    typed = typed.strip()
    if not typed:
        return []
    found = {value_hmac(m.kind, m.value) for m in find_pii(typed, _NO_META)}
    found |= {value_hmac(kind, typed) for kind in PII_KINDS}
    return sorted(found)


@functools.lru_cache(maxsize=4096)
def _detect(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    matches = find_pii(text, _NO_META)
    if not matches:
        return text, ()
    return redact(text, matches), tuple((m.kind, m.value) for m in matches)


def mask_text(text: str, found: set[tuple[str, str]]) -> str:
    """`text` with every detected PII value masked; the (kind, value) pairs go into `found`."""
    if not text or not isinstance(text, str):
        return text
    masked, pairs = _detect(text)
    found.update(pairs)
    return masked


def masked_account_name(typed: str) -> tuple[str, list[str]]:
    """A name typed at the login form that is no account, as the log may keep it: people type
    their ID number or phone there (or a password), and the record's username column is not free
    text that scrub() sees. Masked like free text, each value's hash kept for matching."""
    found: set[tuple[str, str]] = set()
    masked = mask_text(typed, found)
    return masked, sorted({value_hmac(k, v) for k, v in found})


def _mask_any(value: Any, found: set[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        return mask_text(value, found)
    if isinstance(value, dict):
        return {k: (v if k in _MACHINE_KEYS else _mask_any(v, found)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_any(v, found) for v in value]
    return value


def scrub(event: Any) -> Any:
    """A copy of the Event with its free text masked and the values' hashes in its filters."""
    found: set[tuple[str, str]] = set()
    query = mask_text(event.query, found)
    purpose = mask_text(event.purpose, found)
    reason = mask_text(event.reason, found)
    filters = _mask_any(dict(event.filters or {}), found)
    if found:
        hashes = set(filters.get(PII_HMACS) or []) | {value_hmac(k, v) for k, v in found}
        filters[PII_HMACS] = sorted(hashes)
    return replace(event, query=query, purpose=purpose, reason=reason, filters=filters)


def hashes_of(filters: dict[str, Any] | None) -> list[str]:
    """The value hashes a record carries: detected values, and a look-up's own value."""
    filters = filters or {}
    out: Iterable[str] = [*(filters.get(PII_HMACS) or []),
                          *([filters["value_hmac"]] if filters.get("value_hmac") else [])]
    return sorted(set(out))
