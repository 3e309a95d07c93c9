"""Signed, short-lived page-image links.

An <img src> is a GET that anyone can put in a link: if it carried grant and purpose, whoever
wrote the link would choose the purpose of an audited read, and the purpose would land in access
logs and browser history. So the page view mints the image URL: a token signed with SECRET_KEY
(itsdangerous, its own salt) naming the viewer, the grant, the page and the page view's audit
record, valid IMAGE_URL_SECONDS. The image read takes its purpose from that audit record; no
purpose is ever in a URL, and the token works for that one user, page and grant only.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.db import get_session

SALT = "archive-page-image-v1"
VIEW_ACTIONS = ("page.view", "page.unmask")


@dataclass(frozen=True)
class ImageClaims:
    user_id: int
    grant_id: int
    doc_id: str
    view_seq: int  # the page view's audit record, which holds the purpose


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def mint_image_token(*, user_id: int, grant_id: int, doc_id: str, view_seq: int) -> str:
    return _serializer().dumps({"u": user_id, "g": grant_id, "d": doc_id, "a": view_seq})


def open_image_token(token: str, *, user_id: int, doc_id: str) -> tuple[ImageClaims | None, str]:
    """(claims, "") for a valid token of this user and page, else (None, the reason)."""
    if not token:
        return None, "图像链接缺少签名：请从页面查看中打开图像"
    try:
        raw = _serializer().loads(token, max_age=current_app.config["IMAGE_URL_SECONDS"])
        claims = ImageClaims(int(raw["u"]), int(raw["g"]), str(raw["d"]), int(raw["a"]))
    except SignatureExpired:
        return None, (f"图像链接已过期（有效 {current_app.config['IMAGE_URL_SECONDS']} 秒），"
                      "请重新打开页面")
    except (BadSignature, KeyError, TypeError, ValueError):
        return None, "图像链接签名无效"
    if claims.user_id != user_id:
        return None, "图像链接属于另一名用户"
    if claims.doc_id != doc_id:
        return None, "图像链接属于另一个页面"
    return claims, ""


def view_record_purpose(claims: ImageClaims) -> tuple[str, str]:
    """(purpose, "") from the page view that minted the link, or ("", reason)."""
    rec = get_session().execute(select(AuditRecord).where(AuditRecord.seq == claims.view_seq)
                                ).scalar_one_or_none()
    if (rec is None or rec.user_id != claims.user_id or rec.grant_id != claims.grant_id
            or rec.action not in VIEW_ACTIONS or rec.outcome != "allowed"
            or claims.doc_id not in (rec.returned_ids or [])):
        return "", f"图像链接指向的页面查看记录 #{claims.view_seq} 不符"
    return rec.purpose, ""
