"""Every read of archive content on behalf of a user: search, export, page view, unmask, exact
PII look-up and page image. Each runs through `_choke.guarded_read` (grant checked now →
permission filter → query → audit record committed → field redaction); nothing else queries
OpenSearch or decrypts page text for a user. Views and the API call only these functions.
"""
from __future__ import annotations

import io
import unicodedata
import struct
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from PIL import Image

from indexer.watermark import watermark, watermark_label
from indexer.redact import mask_value, redact
from indexer.checksums import luhn_ok, valid_id15, valid_id18
from indexer.vocab import LOOKUP_KINDS
from search_app.accounts.models import User
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.ingest.models import PageSecret
from search_app.blobs import BlobMismatch, BlobStore
from search_app.ingest.secrets import decode_secret, page_meta
from search_app.search._choke import (Found, ReadDenied, ReadFailed, ScopedIndex, SearchUnavailable,
                                      guarded_read)
from search_app.search._catalogue import Catalogue, catalogue
from search_app.catalogue.services import lists as catalogue_lists
from search_app.search._lookup_budget import lookup_budget_refusal
from search_app.search._parse import InvalidInput, QuerySyntaxError, parse
from search_app.search._hits import (FileHit, SearchHit, facets_of, flat_run, grouped_run,
                                     or_relaxed, redact_hit)
from search_app.search._refine import chips, refinements
from search_app.search._query import GROUPS, RESULT_FIELDS, SORTS
from search_app.search._signed import mint_image_token, open_image_token, view_record_purpose
from search_app.audit.actions import Action

FILE_PAGES_SHOWN = 3  # best pages shown under each file of a grouped search

__all__ = ["ReadDenied", "ReadFailed", "SearchUnavailable", "InvalidInput", "QuerySyntaxError", "SORTS", "GROUPS", "SearchHit", "FileHit", "SearchOutcome", "PageView",
           "LOOKUP_KINDS", "search_pages", "export_results", "view_page", "unmask_page",
           "lookup_pii", "page_image", "page_image_for", "load_page_image", "served_image",
           "image_url_token", "Catalogue", "catalogue"]


@dataclass
class SearchOutcome:
    query: str
    total: int
    page: int
    page_size: int
    hits: list[SearchHit]
    facets: dict[str, list[tuple[Any, int]]]
    approval_ref: str
    grant_id: int
    audit_seq: int
    filters: dict[str, Any] = field(default_factory=dict)
    group: str = "page"  # "file": `files` holds the files, each with its best pages
    files: list[FileHit] = field(default_factory=list)
    chips: list[dict[str, Any]] = field(default_factory=list)  # {label, without}: removable
    refine: dict[str, dict[str, str]] = field(default_factory=dict)  # facet -> value -> query
    relaxed: bool = False  # nothing matched the quoted phrases exactly: one-slip matches shown
    total_exact: bool = True  # False: `total` is a lower bound (TOTAL_HITS_CAP or more)


@dataclass
class PageView:
    doc_id: str
    fields: dict[str, Any]
    text: str  # redacted for the grant: masked except the kinds it unmasks (after an unmask)
    pii_kinds: list[str]
    unmaskable: list[str]  # kinds on this page the grant may reveal
    unmasked: list[str]
    approval_ref: str
    grant_id: int
    audit_seq: int
    # the pages of the same file (档号) the grant covers, in order: [{"doc_id", "page_no"}]
    file_pages: list[dict[str, Any]] = field(default_factory=list)


def _parsed(query: str, sort: str, group: str = "page"):
    """The query tree, or QuerySyntaxError (a 400 with the reason: bad input, not a refusal)."""
    if sort not in SORTS:
        raise QuerySyntaxError(f"排序方式必须是 {'、'.join(SORTS)} 之一")
    if group not in GROUPS:
        raise QuerySyntaxError(f"结果分组必须是 {'、'.join(GROUPS)} 之一（page 按页，file 按案卷）")
    return parse(query, catalogue_lists().vocabulary())


def search_pages(*, user: User, grant_id: int | None, purpose: str, query: str, page: int = 1,
                 page_size: int | None = None, sort: str = "relevance", group: str = "page",
                 client_addr: str = "") -> SearchOutcome:
    """One page of hits for the query language of search_app.search._parse: pages, or with
    group="file" files (档号) matching every word across their pages, best pages underneath."""
    parsed = _parsed(query, sort, group)
    page_size = page_size or current_app.config["SEARCH_PAGE_SIZE"]
    page = max(1, min(page, 10_000 // max(page_size, 1)))
    offset = (page - 1) * page_size

    def make(q):
        return (grouped_run(q, offset=offset, size=page_size, sort=sort, per_file=FILE_PAGES_SHOWN)
                if group == "file" else flat_run(q, offset, page_size, sort))
    run = or_relaxed(parsed, make)
    filters = {"page": page, "sort": sort, **({"group": group} if group != "page" else {})}
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.SEARCH, client_addr=client_addr,
        query=query, filters=filters, run=run)
    common = dict(query=query, total=found.total, page=page, page_size=page_size,
                  approval_ref=grant.ref, grant_id=grant.id, audit_seq=rec.seq,
                  filters=rec.filters, group=group)
    if group == "file":
        files, facets, _ = found.payload
        hits: list[SearchHit] = []
    else:
        files, facets = [], facets_of(found.payload)
        hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    vocab = catalogue_lists().vocabulary()
    return SearchOutcome(hits=hits, files=files, facets=facets, chips=chips(query, vocab),
                         refine=refinements(query, facets, vocab),
                         relaxed=bool(found.extra.get("relaxed")),
                         total_exact=not found.extra.get("total_at_least"), **common)


def export_results(*, user: User, grant_id: int | None, purpose: str, query: str,
                   sort: str = "relevance", client_addr: str = "") -> SearchOutcome:
    """Up to EXPORT_MAX_ROWS hits in one go; audited as an export with every id it returns."""
    parsed = _parsed(query, sort)
    size = current_app.config["EXPORT_MAX_ROWS"]
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.EXPORT, client_addr=client_addr,
        query=query, filters={"max_rows": size, "sort": sort},
        run=flat_run(parsed, 0, size, sort))
    hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    return SearchOutcome(query=query, total=found.total, page=1, page_size=size, hits=hits,
                         facets={}, approval_ref=grant.ref, grant_id=grant.id,
                         audit_seq=rec.seq, filters=rec.filters)


def _fetch_page(doc_id: str):
    """The page, only if the permission filter admits it: outside the scope it does not exist."""
    def run(grant: Grant, index: ScopedIndex) -> Found:
        body = {"size": 1, "_source": {"includes": [*RESULT_FIELDS, "text_display", "pii_kinds"]},
                "query": {"ids": {"values": [doc_id]}}}
        hits = index.search(body)["hits"]["hits"]
        if not hits:
            raise ReadDenied(f"页面 {doc_id} 不存在或不在授权范围内")
        return Found(hits[0]["_source"], [doc_id], 1)
    return run


def _page_view(grant: Grant, source: dict[str, Any], rec, text: str, unmasked: list[str]) -> PageView:
    kinds = list(source.get("pii_kinds", []))
    return PageView(doc_id=source["doc_id"], text=text, pii_kinds=kinds,
                    fields={k: v for k, v in source.items() if k in RESULT_FIELDS},
                    unmaskable=[k for k in kinds if k in grant.unmask_fields], unmasked=unmasked,
                    approval_ref=grant.ref, grant_id=grant.id, audit_seq=rec.seq)


def _file_pages(index: ScopedIndex, archive_no: str) -> list[dict[str, Any]]:
    """The pages of one file that the grant's filter admits (for thumbnails and previous/next)."""
    body = {"size": 1000, "_source": {"includes": ["doc_id", "page_no"]},
            "query": {"term": {"archive_no": archive_no}}, "sort": [{"page_no": "asc"}]}
    return [{"doc_id": h["_source"]["doc_id"], "page_no": h["_source"]["page_no"]}
            for h in index.search(body)["hits"]["hits"]]


def view_page(*, user: User, grant_id: int | None, purpose: str, doc_id: str,
              client_addr: str = "", with_file: bool = False) -> PageView:
    """One page, masked; `with_file` also lists the file's pages in the grant's scope (their
    ids only: reading one of them is a read of its own)."""
    fetch = _fetch_page(doc_id)

    def run(grant: Grant, index: ScopedIndex) -> Found:
        found = fetch(grant, index)
        if with_file:
            found.payload = {**found.payload,
                             "_file": _file_pages(index, found.payload.get("archive_no", ""))}
        return found

    grant, found, rec = guarded_read(user=user, grant_id=grant_id, purpose=purpose,
                                     action=Action.PAGE_VIEW, client_addr=client_addr, query=doc_id,
                                     run=run)
    view = _page_view(grant, found.payload, rec, found.payload.get("text_display", ""), [])
    view.file_pages = found.payload.get("_file", [])
    return view


def unmask_page(*, user: User, grant_id: int | None, purpose: str, doc_id: str,
                client_addr: str = "") -> PageView:
    """The page's original text with only the kinds the grant unmasks revealed; the rest stays
    masked as in the index (and anything today's detectors find that the stored spans miss,
    e.g. names and addresses on pages stored before spans were kept). The record names the
    kinds revealed."""
    def allowed(grant: Grant) -> str | None:
        return None if grant.unmask_fields else f"授权 {grant.ref} 未批准显示任何敏感字段"

    fetch = _fetch_page(doc_id)

    def run(grant: Grant, index: ScopedIndex) -> Found:
        found = fetch(grant, index)
        secret = get_session().get(PageSecret, doc_id)
        if secret is None:
            raise ReadDenied(f"页面 {doc_id} 没有存档原文")
        plain = vault_from_config(current_app.config).decrypt(secret.ciphertext, aad=doc_id.encode())
        text, matches = decode_secret(plain, page_meta(get_session(), secret.archive_no,
                                                       secret.source_sha256))
        shown = sorted({m.kind for m in matches if m.kind in grant.unmask_fields})
        masked = redact(text, [m for m in matches if m.kind not in grant.unmask_fields])
        found.payload = (found.payload, masked, shown)
        found.extra = {"unmasked_kinds": shown}
        return found

    grant, found, rec = guarded_read(user=user, grant_id=grant_id, purpose=purpose,
                                     action=Action.PAGE_UNMASK, client_addr=client_addr, query=doc_id,
                                     grant_check=allowed, run=run)
    source, text, shown = found.payload
    return _page_view(grant, source, rec, text, shown)


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


def lookup_value_problem(kind: str, value: str) -> str | None:
    """Why `value` cannot be a `kind` at all (wrong length, check digit, not a mobile number),
    or None. Never echoes the value: the message may be logged."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch.isalnum())
    if kind == "id_number":
        if len(digits) not in (15, 18):
            return f"身份证号应为 18 位（或旧式 15 位），输入的是 {len(digits)} 位"
        if len(digits) == 18 and not valid_id18(digits):
            return "身份证号校验不通过：校验位、地区码或出生日期不正确，请核对"
        if len(digits) == 15 and not valid_id15(digits):
            return "15 位身份证号的地区码或出生日期不正确，请核对"
    elif kind == "phone" and not (len(digits) == 11 and digits.startswith("1") and digits.isdigit()):
        return f"手机号应为以 1 开头的 11 位数字，输入的是 {len(digits)} 位"
    elif kind == "landline" and not (digits.isdigit() and 7 <= len(digits) <= 12):
        return "固定电话应为 7–12 位数字（可含区号）"
    elif kind == "bank_card":
        if not (digits.isdigit() and 16 <= len(digits) <= 19):
            return f"银行卡号应为 16–19 位数字，输入的是 {len(digits)} 位"
        if not luhn_ok(digits):
            return "银行卡号校验位不正确，请核对"
    elif kind == "name" and not 2 <= len(value) <= 20:
        return "姓名应为 2–20 个字"
    return None


def lookup_pii(*, user: User, grant_id: int | None, purpose: str, kind: str, value: str,
               client_addr: str = "") -> SearchOutcome:
    """Exact look-up by a full identifier through the keyed blind index. The audit record holds
    the masked value and a prefix of its keyed hash (to count distinct look-ups), never the value.

    A hit or a miss tells the reader whether a value is on a page, so a look-up is a way to
    read the value: it is allowed only for the kinds the grant may unmask, and only for
    LOOKUP_MAX_DISTINCT_PER_DAY distinct values per grant and day; otherwise guessing candidate
    ID numbers against a masked `110105********` would recover them one look-up at a time."""
    norm = "".join(value.split()).upper() if kind != "name" else "".join(value.split())
    if kind in LOOKUP_KINDS and norm:
        reason = lookup_value_problem(kind, norm)
        if reason:  # a typo would otherwise be answered 没有找到, as if the value were absent
            raise InvalidInput(reason)
    vault = vault_from_config(current_app.config)
    digest = vault.blind_index(kind, norm) if kind in LOOKUP_KINDS and norm else ""

    def precheck() -> str | None:
        if kind not in LOOKUP_KINDS:
            return f"查找类型必须是 {'、'.join(LOOKUP_KINDS.values())} 之一"
        return None if norm else "请输入要查找的值"

    def allowed(grant: Grant) -> str | None:
        if not grant.allow_lookup:
            return f"授权 {grant.ref} 未批准精确查找"
        if kind not in grant.unmask_fields:  # a hit would confirm a value the grant may not see
            return (f"授权 {grant.ref} 未批准显示{LOOKUP_KINDS[kind]}，"
                    f"因此不能按{LOOKUP_KINDS[kind]}精确查找")
        return lookup_budget_refusal(grant, digest[:16])

    def run(grant: Grant, index: ScopedIndex) -> Found:
        body = {"size": 50, "track_total_hits": True, "_source": {"includes": RESULT_FIELDS},
                "query": {"bool": {"minimum_should_match": 1, "should": [
                    {"term": {"pii_hmac": digest}}, {"term": {"subject_hmac": digest}}]}}}
        resp = index.search(body)
        return Found(resp, [h["_id"] for h in resp["hits"]["hits"]], resp["hits"]["total"]["value"])

    masked = mask_value(kind, norm) if kind in LOOKUP_KINDS and norm else ""
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.PII_LOOKUP,
        client_addr=client_addr, query=f"{LOOKUP_KINDS.get(kind, kind)}：{masked}",
        filters={"kind": kind, "value_hmac": digest[:16]}, precheck=precheck,
        grant_check=allowed, run=run)
    hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    return SearchOutcome(query=masked, total=found.total, page=1, page_size=50, hits=hits,
                         facets={}, approval_ref=grant.ref, grant_id=grant.id,
                         audit_seq=rec.seq, filters=rec.filters)
