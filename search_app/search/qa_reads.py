"""The QA reviewer's reads: the review screen's page (text as served to staff, image redacted and
watermarked), an earlier text version, and the page read that each review action starts with.

Each runs through `guarded_read` with the QA permission and the reviewer's scope in place of a
grant (search_app.qa.scope.resolve_scope): the scope's filter decides whether the page exists
for the reviewer, the audit record is committed before anything is returned, and the text is
masked except the kinds the scope unmasks. Nothing here writes; search_app.qa.review does, after
the read that admitted the page.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from indexer.pii import PiiMatch
from indexer.qa_text import shown_text
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import PageSecret, PageVersion
from search_app.ingest.secrets import decode_secret, page_meta
from search_app.permissions import Permission
from search_app.qa.scope import ReviewScope, resolve_scope
from search_app.search import load_page_image, served_image
from search_app.search._pages import _fetch_page
from search_app.search._choke import Found, ReadDenied, ScopedIndex, guarded_read


@dataclass
class QaPageRead:
    doc_id: str
    fields: dict[str, Any]
    text: str  # as the reviewer may see it: masked except the scope's unmasked kinds
    pii_kinds: list[str]
    scope_ref: str
    scope_id: int
    audit_seq: int
    raw: str = field(default="", repr=False)  # for a review action only (never rendered)
    matches: list[PiiMatch] = field(default_factory=list, repr=False)
    unmasked: list[str] = field(default_factory=list)


def _secret_text(doc_id: str, ciphertext: bytes, archive_no: str, source_sha256: str
                 ) -> tuple[str, list[PiiMatch]]:
    plain = vault_from_config(current_app.config).decrypt(ciphertext, aad=doc_id.encode())
    return decode_secret(plain, page_meta(get_session(), archive_no, source_sha256))


def _read(user: User, scope_id: int | None, doc_id: str, action: str, client_addr: str, *,
          version_id: int | None = None, filters: dict[str, Any] | None = None,
          check: Callable[[str, list[PiiMatch], list[str]], None] | None = None) -> QaPageRead:
    fetch = _fetch_page(doc_id)

    def run(scope: ReviewScope, index: ScopedIndex) -> Found:
        found = fetch(scope, index)  # type: ignore[arg-type]  (a scope in a grant's place)
        row = (get_session().get(PageVersion, version_id) if version_id is not None
               else get_session().get(PageSecret, doc_id))
        if row is None or row.doc_id != doc_id:
            raise ReadDenied(f"页面 {doc_id} 没有{'该历史版本' if version_id else '存档原文'}")
        raw, matches = _secret_text(doc_id, row.ciphertext, row.archive_no, row.source_sha256)
        if check is not None:  # raises ReadDenied: the action is refused and audited as such
            check(raw, matches, sorted({m.kind for m in matches} & set(scope.unmask_fields)))
        found.payload = (found.payload, raw, matches)
        found.extra = {"job_ids": scope.job_ids, **({"version_id": version_id} if version_id
                                                    else {})}
        return found

    scope, found, rec = guarded_read(
        user=user, grant_id=scope_id, purpose=_purpose(user, scope_id), action=action,
        client_addr=client_addr, query=doc_id, filters=filters, permission=Permission.QA_REVIEW,
        resolve=resolve_scope, run=run)
    source, raw, matches = found.payload
    unmasked = sorted({m.kind for m in matches} & set(scope.unmask_fields))
    text, _ = shown_text(raw, matches, unmasked)
    return QaPageRead(doc_id=doc_id, text=text, pii_kinds=list(source.get("pii_kinds", [])),
                      fields={k: v for k, v in source.items() if k != "text_display"},
                      scope_ref=scope.ref, scope_id=scope.id, audit_seq=rec.seq, raw=raw,
                      matches=matches, unmasked=unmasked)


def _purpose(user: User, scope_id: int | None) -> str:
    """The scope's task is the purpose of every review read (typed by the security admin who
    gave it); a scope that is not the reviewer's has none, and resolve_scope refuses it."""
    from search_app.qa.models import QaScope

    row = get_session().get(QaScope, scope_id) if scope_id is not None else None
    return row.purpose if row is not None and row.user_id == user.id else "数字化质检"


def qa_view_page(*, user: User, scope_id: int | None, doc_id: str,
                 client_addr: str = "") -> QaPageRead:
    return _read(user, scope_id, doc_id, Action.QA_PAGE_VIEW, client_addr)


def qa_version_text(*, user: User, scope_id: int | None, doc_id: str, version_id: int,
                    client_addr: str = "") -> QaPageRead:
    """An earlier text version of a page in scope, masked as the current one is."""
    return _read(user, scope_id, doc_id, Action.QA_VERSION_VIEW, client_addr,
                 version_id=version_id)


def qa_action_read(*, user: User, scope_id: int | None, doc_id: str, action: str,
                   client_addr: str = "", filters: dict[str, Any] | None = None,
                   check: Callable[[str, list[PiiMatch], list[str]], None] | None = None
                   ) -> QaPageRead:
    """The read a review action (re-OCR, correct, accept, re-scan) starts with: it admits the
    page under the scope and is the action's audit record, committed before the change.
    `check(raw, matches, unmasked)` may refuse the action (ReadDenied) once the text is known:
    the record then says denied, with the reason."""
    return _read(user, scope_id, doc_id, action, client_addr, filters=filters, check=check)


def qa_page_image(*, user: User, scope_id: int | None, doc_id: str, viewer: str,
                  client_addr: str = "") -> bytes:
    """The stored redacted page image, watermarked with the reviewer, time and audit record."""
    fetch = _fetch_page(doc_id)

    def run(scope: ReviewScope, index: ScopedIndex) -> Found:
        found = fetch(scope, index)  # type: ignore[arg-type]
        found.payload = load_page_image(doc_id)
        return found

    _, found, rec = guarded_read(
        user=user, grant_id=scope_id, purpose=_purpose(user, scope_id),
        action=Action.QA_PAGE_IMAGE, client_addr=client_addr, query=doc_id,
        permission=Permission.QA_REVIEW, resolve=resolve_scope, run=run)
    out = io.BytesIO()
    served_image(found.payload, viewer, rec).save(out, format="PNG")
    return out.getvalue()
