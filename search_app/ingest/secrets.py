"""What the vault holds for a page: the unredacted text and where the PII in it is.

Keeping the detected spans (inside the ciphertext) lets an unmask show exactly the kinds a grant
allows and mask the rest the same way the index did. Pages stored before spans were kept (v1:
plain text) have no spans: they are detected again on read with the full detectors (numbers,
names, addresses and the subject's name from the file's manifest row), never with the number
patterns alone, or an unmask would show every name and address whatever the grant says. Spans
stored by an older detector are topped up the same way: detection only ever adds masking.
"""
from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.pii import PiiMatch
from indexer.pipeline import find_pii
from indexer.types import ArchiveMeta, PreparedPage

_VERSION = 2
_NO_META = ArchiveMeta(archive_no="", title="", category="", unit="", year=0, classification="",
                       file="")


def encode_secret(page: PreparedPage) -> bytes:
    return json.dumps({"v": _VERSION, "text": page.raw_text,
                       "pii": [[m.kind, m.start, m.end, m.value] for m in page.pii]},
                      ensure_ascii=False).encode()


def decode_secret(plaintext: bytes, meta: ArchiveMeta | None = None
                  ) -> tuple[str, list[PiiMatch]]:
    """The page text and every PII span in it: the stored spans plus whatever the current
    detectors find that they do not cover (all of it, for a v1 page)."""
    try:
        data = json.loads(plaintext)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("v") == _VERSION:
        text = data["text"]
        stored = [PiiMatch(k, s, e, v) for k, s, e, v in data["pii"]]
    else:
        text, stored = plaintext.decode(), []
    found = list(stored)
    for m in find_pii(text, meta or _NO_META):
        if not any(o.start < m.end and m.start < o.end for o in found):
            found.append(m)
    return text, sorted(found, key=lambda m: m.start)


def page_meta(session: Session, archive_no: str, source_sha256: str) -> ArchiveMeta:
    """The manifest row of the file a page came from (for the subject's name), or an empty one
    when no ingest row is left for it."""
    from search_app.ingest.models import IngestFile
    from search_app.ingest.service import file_meta, last_complete_file

    f = session.execute(select(IngestFile).where(IngestFile.archive_no == archive_no,
                                                 IngestFile.sha256 == source_sha256)
                        .order_by(IngestFile.id.desc()).limit(1)).scalar_one_or_none()
    f = f or last_complete_file(session, archive_no)
    if f is None or not f.meta_ciphertext:
        return _NO_META
    raw = file_meta(f)
    try:
        return ArchiveMeta(**{k: raw[k] for k in ArchiveMeta.__dataclass_fields__ if k in raw})
    except TypeError:  # a row that failed validation has no meta
        return _NO_META
