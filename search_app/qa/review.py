"""The review queue's actions: re-OCR, correct the text, accept, send for re-scan.

Each starts with the page read under the reviewer's scope (search.qa_reads.qa_action_read), which
refuses a page outside it and commits the action's audit record before anything changes (fail
closed: no record, no change). A correction is a new text version: the replaced PageSecret goes
to PageVersion (keyed by 档号 and page), the corrected text is detected and redacted again like
any page, and the page's index document is overwritten only after the database commit.
"""
from __future__ import annotations

from dataclasses import replace

from flask import current_app
from sqlalchemy import select

from indexer.pages import load_page
from indexer.pipeline import page_text, prepare
from indexer.qa_text import CorrectionRefused, apply_correction, realign_words
from indexer.types import ArchiveMeta, PageText
from search_app import limits
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.db import get_session
from search_app.ingest.keep import index_documents, keep_page
from search_app.ingest.models import IngestFile, PageSecret, PageVersion
from search_app.ingest.reocr import reocr
from search_app.ingest.service import blob_store, file_meta, options_from_config
from search_app.qa.models import QaPage
from search_app.search._backend import alias, writer
from search_app.search._choke import ReadDenied
from search_app.search._files import refresh_file_docs
from search_app.search.qa_reads import QaPageRead, qa_action_read
from search_app.timeutil import utcnow

MAX_TEXT = 20_000  # characters of one corrected page
MAX_REASON = 500


class ReviewRefused(ValueError):
    """Bad input for a review action (nothing was changed); the message says why in Chinese."""


def qa_row(doc_id: str) -> QaPage | None:
    """The page's QA row of its latest ingest."""
    return get_session().execute(select(QaPage).where(QaPage.doc_id == doc_id)
                                 .order_by(QaPage.id.desc()).limit(1)).scalar_one_or_none()


def _decide(row: QaPage | None, user: User, status: str, reason: str = "") -> None:
    if row is None:
        return
    row.status, row.decided_by, row.decided_at, row.rescan_reason = (status, user.username,
                                                                     utcnow(), reason)


def accept(*, user: User, scope_id: int | None, doc_id: str, client_addr: str = "") -> None:
    qa_action_read(user=user, scope_id=scope_id, doc_id=doc_id, action=Action.QA_ACCEPT,
                   client_addr=client_addr)
    _decide(qa_row(doc_id), user, "accepted")
    get_session().commit()


def send_for_rescan(*, user: User, scope_id: int | None, doc_id: str, reason: str,
                    client_addr: str = "") -> None:
    reason = reason.strip()
    if not reason:
        raise ReviewRefused("退回重扫必须写明原因（如：页面缺角、字迹模糊、漏扫）")
    if len(reason) > MAX_REASON:
        raise ReviewRefused(f"退回原因不能超过 {MAX_REASON} 字")
    qa_action_read(user=user, scope_id=scope_id, doc_id=doc_id, action=Action.QA_RESCAN,
                   client_addr=client_addr, filters={"reason": reason})
    _decide(qa_row(doc_id), user, "rescan", reason)
    get_session().commit()


def reocr_page(*, user: User, scope_id: int | None, doc_id: str, client_addr: str = "") -> float | None:
    """OCR the page again from its stored original (orientation checked again); the old text is
    kept as a version. Returns the new confidence."""
    read = qa_action_read(user=user, scope_id=scope_id, doc_id=doc_id, action=Action.QA_REOCR,
                          client_addr=client_addr)
    [result] = reocr(read.fields["archive_no"], page_no=int(read.fields["page_no"]))
    row = qa_row(doc_id)
    if row is not None:
        row.ocr_confidence, row.text_version = result.new_confidence, row.text_version + 1
        _decide(row, user, "pending")
        row.decided_by = row.decided_at = None
    get_session().commit()
    return result.new_confidence


def correct(*, user: User, scope_id: int | None, doc_id: str, text: str,
            client_addr: str = "") -> int:
    """Store the reviewer's corrected text as the page's new version and re-index the page;
    returns the new version number. The redacted image stays as it was."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise ReviewRefused("更正后的文本不能为空；空白页请选择“合格”或“退回重扫”")
    if len(text) > MAX_TEXT:
        raise ReviewRefused(f"更正后的文本不能超过 {MAX_TEXT} 字")
    session = get_session()
    secret = session.get(PageSecret, doc_id)
    if secret is None:
        raise ReviewRefused(f"页面 {doc_id} 没有存档原文，无法更正")
    # The edit is carried onto the unredacted text inside the audited read (the only place the
    # text is decrypted); an edit touching a masked span, or none at all, is refused there and
    # recorded as refused, with the reason.
    outcome: dict[str, str] = {}

    def check(raw: str, matches: list, unmasked: list[str]) -> None:
        try:
            outcome["raw"] = apply_correction(raw, matches, text, unmasked=unmasked)
        except CorrectionRefused as exc:
            outcome["why"] = str(exc)
        if "why" not in outcome and outcome["raw"] == raw:
            outcome["why"] = "文本没有改动"
        if "why" in outcome:
            raise ReadDenied(outcome["why"])

    try:
        read = qa_action_read(user=user, scope_id=scope_id, doc_id=doc_id,
                              action=Action.QA_CORRECT, client_addr=client_addr, check=check,
                              filters={"chars": len(text), "edit": limits.clip(text, 200)})
    except ReadDenied:
        if "why" in outcome:
            raise ReviewRefused(outcome["why"]) from None
        raise
    return _store_correction(read, secret, outcome["raw"], user)


def _reboxed(f: IngestFile, corrected: PageText) -> PageText:
    """`corrected` with the page image and word boxes of the page read again from its stored
    original (as ingest reads it), the boxes moved onto the corrected text."""
    opts = options_from_config()
    page = load_page(blob_store().get(f.sha256, owner=f.archive_no), corrected.page_no, dpi=opts.dpi,
                     max_pixels=opts.max_pixels, view_max_edge=opts.view_max_edge)
    fresh = page_text(page, opts)
    return replace(corrected, words=realign_words(fresh.words, fresh.text, corrected.text),
                   image=fresh.image, blackout=list(fresh.blackout))


def _store_correction(read: QaPageRead, secret: PageSecret, new_raw: str, user: User) -> int:
    session = get_session()
    row = qa_row(read.doc_id)
    f = (session.get(IngestFile, row.file_id) if row is not None else None) or \
        session.execute(select(IngestFile).where(IngestFile.archive_no == secret.archive_no,
                                                 IngestFile.sha256 == secret.source_sha256)
                        .order_by(IngestFile.id.desc()).limit(1)).scalar_one()
    meta = ArchiveMeta(**file_meta(f))
    page_no = int(read.fields["page_no"])
    corrected = PageText(page_no=page_no, text=new_raw, source="qa_corrected",
                         confidence=secret.ocr_confidence)
    prepared = prepare(corrected, meta)
    before = {(m.kind, m.value) for m in read.matches}
    image = secret.image_sha256
    if {(m.kind, m.value) for m in prepared.pii} - before:
        # The corrected text names personal data the stored image does not box (an OCR slip
        # hid a name from the detectors): the image is redacted again from the original.
        prepared = prepare(_reboxed(f, corrected), meta)
        image = None
    doc = keep_page(session, meta, prepared, f, reason="qa_correct")
    if image is not None:  # a plain text fix: the stored redacted image stays as it was
        secret.image_sha256 = image
    version = 1 + session.query(PageVersion).filter(PageVersion.doc_id == read.doc_id).count()
    if row is not None:
        row.text_version = version
        _decide(row, user, "corrected")
    session.commit()  # durable before it becomes searchable
    index_documents([doc])
    writer().indices.refresh(index=alias())
    refresh_file_docs(meta.archive_no)
    current_app.logger.info("QA correction of %s by %s: version %s", read.doc_id,
                            user.username, version)
    return version
