"""The one path every read on behalf of a user takes (DESIGN.md security rule 2).

`guarded_read` (a) checks the role and purpose and resolves the chosen grant now, (b) builds the
permission filter from it and the reader's identity, (c) hands the caller a `ScopedIndex` whose
every query carries that filter as a required clause (the caller never sees the filter, so it
cannot leave it out), (d) commits the audit record — if that fails the read fails — and only
then returns, so the caller can apply (e) field redaction for the grant. Denials and failures
are audited too. The public read functions in `search_app.search` are thin shapes over this.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import g, has_app_context
from opensearchpy.exceptions import TransportError
from sqlalchemy.orm import Session

from indexer.index import FILE_KIND
from search_app import limits
from search_app.accounts.models import User
from search_app.audit.models import AuditRecord
from search_app.audit.service import Actor, Event, lock_chain, record_event
from search_app.db import fresh_session, get_session
from search_app.grants.models import Grant
from search_app.grants.services import GrantDenied, resolve_grant
from search_app.permissions import Permission, has_permission, role_labels
from search_app.search._backend import alias, reader
from search_app.search._filter import FormerNames, ReaderIdentity, permission_filter

T = TypeVar("T")


class ReadDenied(PermissionError):
    def __init__(self, reason: str, approval_ref: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.approval_ref = approval_ref


class SearchUnavailable(RuntimeError):
    pass


class PartialResults(SearchUnavailable):
    """The engine answered without every shard (a node lost mid-query) or ran out of time: the
    hits it has are not all there are, so the read is refused (audited as an error), never
    shown as if complete."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def complete(resp: dict[str, Any]) -> dict[str, Any]:
    """`resp` if every shard answered in time; PartialResults naming what is missing if not.
    `allow_partial_search_results=false` makes the engine fail such a search itself; this
    check holds even where it does not (a shard skipped, or a time-out inside a shard)."""
    shards = resp.get("_shards") or {}
    total, failed = shards.get("total", 0), shards.get("failed", 0)
    answered = shards.get("successful", 0) + shards.get("skipped", 0)
    if resp.get("timed_out"):
        raise PartialResults("检索超时，只得到部分结果；为免以不完整的结果示人，本次查询未返回任何结果，"
                             "请稍后再试")
    if failed or answered < total:
        raise PartialResults(f"检索集群有 {total - answered} 个分片未响应（共 {total} 个），只得到部分"
                             "结果；为免以不完整的结果示人，本次查询未返回任何结果，请稍后再试")
    return resp


# every guarded search: a shard that cannot answer fails the whole search (no partial hits)
_COMPLETE_ONLY = {"allow_partial_search_results": "false"}


class ReadFailed(SearchUnavailable):
    """The stored content failed its integrity check (e.g. a ciphertext bound to another
    record): the read fails closed, is audited as an error, and the reason is shown."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Found:
    """What a read's query produced: the payload for the caller, and what the audit names."""

    payload: Any
    returned_ids: list[str]
    total: int
    extra: dict[str, Any] = field(default_factory=dict)  # added to the record's filters


class ScopedIndex:
    """The only handle a read gets on the engine: `search(body)` runs the body's query with the
    grant's permission filter added as a required clause, so scoring, highlights, aggregations and
    `ids` look-ups only ever see documents the grant covers (paperless wraps every query)."""

    def __init__(self, permission: dict[str, Any]) -> None:
        self._permission = permission

    def search(self, body: dict[str, Any]) -> dict[str, Any]:
        """Page documents only: a file-level document is never a page (no `ids` look-up, hit
        or facet of a page read can be one)."""
        return complete(reader().search(index=alias(), body=scoped_body(self._permission, body),
                                        params=_COMPLETE_ONLY))

    def search_files(self, body: dict[str, Any]) -> dict[str, Any]:
        """File-level documents only (the grouped search), under the same permission filter."""
        return complete(reader().search(index=alias(), params=_COMPLETE_ONLY,
                                        body=scoped_body(self._permission, body, files=True)))


def scoped_body(permission: dict[str, Any], body: dict[str, Any], *,
                files: bool = False) -> dict[str, Any]:
    """`body` with its query wrapped: the permission filter as a required (non-scoring, cached)
    clause, and only page documents, or with `files` only file-level documents. Pure, so the
    search bench sends the engine exactly what a guarded read sends."""
    scoped = dict(body)
    inner = scoped.pop("query", {"match_all": {}})
    clause: dict[str, Any] = {"must": [inner], "filter": [permission]}
    if files:
        clause["filter"].append({"term": {"doc_kind": FILE_KIND}})
    else:
        clause["must_not"] = [{"exists": {"field": "doc_kind"}}]
    scoped["query"] = {"bool": clause}
    return scoped


def reader_identity(user: User) -> ReaderIdentity:
    """The reader's own and their relatives' blind-index hashes, and the reader's (name,
    birth date) term: their files are never shown, whichever of these a file names them by."""
    own = [user.id_number_hmac, user.person_hmac, *(user.relative_hmacs or [])]
    return ReaderIdentity(tuple(sorted({h for h in own if h})))


def former_names() -> FormerNames:
    """The catalogue's renamed 门类 and units (search_app.catalogue), for the filter."""
    from search_app.catalogue.services import former_names as names  # imports audit, not search

    former = names(("category", "unit"))
    return FormerNames(categories=former.get("category"), units=former.get("unit"))


def grant_filters(grant: Grant) -> dict[str, Any]:
    return {"categories": grant.categories, "units": grant.units,
            "classification_ceiling": grant.classification_ceiling,
            "archive_nos": grant.archive_nos, "subject": grant.subject_label}


def guarded_read(*, user: User, grant_id: int | None, purpose: str, action: str,
                 client_addr: str, query: str = "", filters: dict[str, Any] | None = None,
                 precheck: Callable[[], str | None] | None = None,
                 grant_check: Callable[[Grant], str | None] | None = None,
                 link_check: str | None = None,
                 admit: Callable[[Session, Grant, Found], str | None] | None = None,
                 permission: Permission = Permission.ARCHIVE_SEARCH,
                 resolve: Callable[..., Grant] = resolve_grant,
                 run: Callable[[Grant, ScopedIndex], Found]) -> tuple[Grant, Found, AuditRecord]:
    """`precheck()` / `grant_check(grant)` return a refusal reason or None; `run(grant, index)`
    queries through the scoped index and may raise ReadDenied (e.g. a page outside the scope)
    or ReadFailed (stored content failed its check: audited as an error with its reason).
    `link_check` is the reason a signed link was refused, if it was: checked first, since
    without the link there is no purpose. `permission` and `resolve(session, user, grant_id)`
    are the role's right and the scope it reads under: a staff grant by default, a QA reviewer's
    scope for the review queue (search_app.qa.scope); either raises GrantDenied with the reason.

    `admit(session, grant, found)` is a last check that must be atomic with the allowed record
    (a quota counted from earlier allowed records): it runs in the session that writes the
    record, after that session has taken the audit chain's write lock, so two concurrent reads
    cannot both pass it on the same count. It returns a refusal reason or None; keep it to a
    query or two, since every audit writer waits while it runs.

    Only engine transport errors and partial answers (PartialResults: a shard failed or the
    search timed out) become SearchUnavailable (503); anything else — a ciphertext
    that fails authentication, a bug — is audited as an error and raised as it is, so it is not
    disguised as a busy engine."""
    actor = Actor(user.id, user.username, user.role, client_addr)
    purpose = purpose.strip()
    # The record keeps at most the limits' worth of free text: an over-long value is refused
    # below, and its record holds a shortened copy, never 20,000 characters of it.
    base: dict[str, Any] = dict(action=action, purpose=limits.clip(purpose, limits.PURPOSE),
                                query=limits.clip(query, limits.QUERY), grant_id=grant_id)
    record_filters = dict(filters or {})
    session_id = g.get("reading_session") if has_app_context() else None
    if session_id:  # the reading session this request reads in (search_app.reading) names itself
        record_filters["reading_session"] = session_id

    def deny(reason: str, approval_ref: str = "") -> ReadDenied:
        fields = {**base, "approval_ref": approval_ref}
        record_event(actor, Event(outcome="denied", reason=reason, filters=record_filters, **fields))
        return ReadDenied(reason, approval_ref)

    if not has_permission(user.role, permission):
        raise deny("您的角色不能查询档案" if permission == Permission.ARCHIVE_SEARCH
                   else f"您的角色（{role_labels(user.role)}）没有此项权限：{permission.value}")
    if link_check:
        raise deny(link_check)
    if not purpose:
        raise deny("必须填写本次查询事由")
    reason = (limits.too_long("查询事由", purpose, limits.PURPOSE)
              or limits.too_long("查询内容", query, limits.QUERY))
    if reason:
        raise deny(reason)
    reason = precheck() if precheck else None
    if reason:
        raise deny(reason)
    try:
        grant = resolve(get_session(), user, grant_id)
    except GrantDenied as exc:  # an expired or revoked grant is still named in the record
        raise deny(exc.reason, exc.grant.ref if exc.grant else "") from None
    reason = grant_check(grant) if grant_check else None
    if reason:
        raise deny(reason, grant.ref)
    base["approval_ref"] = grant.ref
    record_filters = {**grant_filters(grant), **record_filters}
    try:
        found = run(grant, ScopedIndex(permission_filter(grant, reader_identity(user),
                                                         former_names())))
    except ReadDenied as exc:
        raise deny(exc.reason, grant.ref) from None
    except (ReadFailed, PartialResults) as exc:
        record_event(actor, Event(outcome="error", reason=exc.reason[:500],
                                  filters=record_filters, **base))
        raise
    except TransportError as exc:
        record_event(actor, Event(outcome="error", reason=f"检索服务错误：{exc}"[:500],
                                  filters=record_filters, **base))
        raise SearchUnavailable("检索服务暂时不可用，请稍后再试") from exc
    except Exception as exc:
        record_event(actor, Event(outcome="error", reason=f"读取失败：{type(exc).__name__}: {exc}"[:500],
                                  filters=record_filters, **base))
        raise
    allowed = Event(outcome="allowed", filters={**record_filters, **found.extra},
                    result_count=found.total, returned_ids=found.returned_ids, **base)
    if admit is None:
        return grant, found, record_event(actor, allowed)
    with fresh_session() as locked:
        lock_chain(locked)
        reason = admit(locked, grant, found)
        if reason:
            locked.rollback()  # the lock goes before the refusal is recorded
            raise deny(reason, grant.ref)
        rec = record_event(actor, allowed, session=locked)
        locked.commit()
    return grant, found, rec
