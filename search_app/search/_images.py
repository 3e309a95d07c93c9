"""Page images: the stored redacted image, checked from its header, watermarked for this read."""
from __future__ import annotations

import io
import struct
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image

from indexer.watermark import watermark, watermark_label
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.blobs import BlobMismatch, BlobStore
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.ingest.models import PageSecret
from search_app.search._choke import Found, ReadDenied, ReadFailed, ScopedIndex, guarded_read
from search_app.search._pages import PageView, _fetch_page
from search_app.search._signed import mint_image_token, open_image_token, view_record_purpose


def page_image(*, user: User, token: str, doc_id: str, viewer: str, client_addr: str = "",
               link_refusal: str = "") -> bytes:
    """The page image by the signed link a (form-posted) page view minted (search._signed):
    grant and purpose come from the token and the page view's audit record, never from the URL;
    `link_refusal` is the caller's reason to refuse the link as such (it carried a purpose)."""
    claims, reason = open_image_token(token, user_id=user.id, doc_id=doc_id)
    purpose = ""
    if claims is not None:
        purpose, reason = view_record_purpose(claims)
    return page_image_for(user=user, grant_id=claims.grant_id if claims else None,
                          purpose=purpose, doc_id=doc_id, viewer=viewer, client_addr=client_addr,
                          link_refusal=link_refusal or reason,
                          extra={"page_view_record": claims.view_seq} if claims else {})


def page_image_for(*, user: User, grant_id: int | None, purpose: str, doc_id: str, viewer: str,
                   client_addr: str = "", link_refusal: str = "",
                   extra: dict[str, Any] | None = None) -> bytes:
    """The page image with PII burned out at ingest, watermarked now with the viewer, the local
    time and the number of this read's audit record; PNG bytes. Images are never unmasked: only
    the redacted one is stored. A stored image larger than the view limit is refused from its
    header, before any pixel is decoded (and the refusal is audited). Grant and purpose are the
    caller's: a signed link's (page_image) or a reading session's."""
    fetch = _fetch_page(doc_id)

    def run(grant: Grant, index: ScopedIndex) -> Found:
        found = fetch(grant, index)
        found.payload = load_page_image(doc_id)
        found.extra = dict(extra or {})
        return found

    _, found, rec = guarded_read(user=user, grant_id=grant_id, purpose=purpose,
                                 action=Action.PAGE_IMAGE, client_addr=client_addr, query=doc_id,
                                 link_check=link_refusal or None, run=run)
    out = io.BytesIO()
    served_image(found.payload, viewer, rec).save(out, format="PNG")
    return out.getvalue()


def load_page_image(doc_id: str) -> Image.Image:
    """The stored redacted image of a page the caller's scoped query just admitted, opened
    lazily after its header was checked (ReadDenied when there is none or it is too large)."""
    secret = get_session().get(PageSecret, doc_id)
    if secret is None or not secret.image_sha256:
        raise ReadDenied(f"页面 {doc_id} 没有可显示的图像")
    return _open_stored(doc_id, read_page_image(doc_id, secret.image_sha256),
                        current_app.config["VIEW_MAX_EDGE_PX"])


def served_image(img: Image.Image, viewer: str, rec) -> Image.Image:
    """What is served of a stored image: within VIEW_MAX_EDGE_PX, watermarked with the viewer,
    the read's local time and its audit record (the one place this is done: view and export)."""
    cap = current_app.config["VIEW_MAX_EDGE_PX"]
    if max(img.size) > cap:  # stored before VIEW_MAX_EDGE_PX: within cap² pixels, scale it
        img.thumbnail((cap, cap), Image.Resampling.LANCZOS)
    when = rec.ts.replace(tzinfo=UTC).astimezone(ZoneInfo(current_app.config["AUDIT_TIMEZONE"]))
    return watermark(img, watermark_label(viewer, when, rec.seq))


def read_page_image(doc_id: str, image_sha256: str) -> bytes:
    """The stored redacted image of `doc_id`; ReadFailed (audited as an error) when the blob is
    missing or bound to another page (a swapped image_sha256), never another page's image."""
    store = BlobStore(current_app.config["BLOB_DIR"], vault_from_config(current_app.config))
    try:
        return store.get_page_image(doc_id, image_sha256)
    except BlobMismatch as exc:
        raise ReadFailed(f"图像读取失败：{exc}") from None


def image_url_token(user: User, page: PageView) -> str:
    """The signed token for this viewer's <img> of the page they were just shown."""
    return mint_image_token(user_id=user.id, grant_id=page.grant_id, doc_id=page.doc_id,
                            view_seq=page.audit_seq)


def _open_stored(doc_id: str, data: bytes, cap: int) -> Image.Image:
    """The stored page image, opened lazily, after its size was read from the PNG header: over
    cap × cap pixels it is refused undecoded (Pillow's own guard would only say "bomb")."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ReadDenied(f"页面 {doc_id} 的存档图像不是 PNG，未予解码；请管理员重新识别该页")
    w, h = struct.unpack(">II", data[16:24])
    if w * h > cap * cap:
        raise ReadDenied(f"页面 {doc_id} 的存档图像 {w}×{h} 像素超过显示上限（{cap}×{cap} 像素），"
                         "未予解码；请管理员重新识别该页")
    try:
        return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ReadDenied(f"页面 {doc_id} 的存档图像 {w}×{h} 像素超过图像像素上限，未予解码") from None
