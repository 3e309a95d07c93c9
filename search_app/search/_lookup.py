"""Exact PII look-up through the keyed blind index, for the kinds the grant may unmask only."""
from __future__ import annotations

import unicodedata

from flask import current_app

from indexer.checksums import luhn_ok, valid_id15, valid_id18
from indexer.redact import mask_value
from indexer.vocab import LOOKUP_KINDS
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.crypto import vault_from_config
from search_app.grants.models import Grant
from search_app.search._choke import Found, ScopedIndex, guarded_read
from search_app.search._hits import redact_hit
from search_app.search._lookup_budget import lookup_budget_refusal
from search_app.search._parse import InvalidInput
from search_app.search._query import RESULT_FIELDS
from search_app.search._results import SearchOutcome


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
        grant_check=allowed, run=run,
        # again under the audit chain's lock: concurrent look-ups cannot both take the last slot
        admit=lambda session, grant, _found: lookup_budget_refusal(grant, digest[:16], session))
    hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    return SearchOutcome(query=masked, total=found.total, page=1, page_size=50, hits=hits,
                         facets={}, approval_ref=grant.ref, grant_id=grant.id,
                         audit_seq=rec.seq, filters=rec.filters)
