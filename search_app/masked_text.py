"""Free-text columns that never hold a person's data as typed: grant purposes, decision reasons,
retention and QA reasons.

People write "核实110105199003071234的户籍" or "向王建国出具证明" into these fields, and the rows
are shown to approvers, exported by the API and kept for years. The same detectors that mask page
text and audit records (search_app.audit.redaction) run on the way into the database and again on
the way out, so a row written before this column type existed (or by a raw UPDATE) is masked
wherever it is read: pages, API JSON, exports. Each value's keyed hash is kept where the row is
written, in the audit record of that write (record_event scrubs the same text and stores the
hashes in `filters.pii_hmacs`), so "the same ID was named in three requests" stays findable.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.types import TypeDecorator


def mask_free_text(value: str | None) -> str | None:
    """`value` with every value the detectors find replaced by its masked form."""
    if not value or not isinstance(value, str):
        return value
    from search_app.audit.redaction import mask_text  # the detectors load lazily

    return mask_text(value, set())


class MaskedText(TypeDecorator):
    """A Text column masked on write and on read."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return mask_free_text(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return mask_free_text(value)


class MaskedString(MaskedText):
    """A bounded String column masked on write and on read (masking keeps the length)."""

    impl = String
    cache_ok = True
