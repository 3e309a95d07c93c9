"""Audit queries for auditors over the API: the same filters, the same masking and the same
audit.view record as the web view (search_app.audit.views builds the query; nothing here
filters on its own). Free text in a record was masked when it was written, so what is returned
is what the web table shows; the records' raw `filters` are not returned, only their value
hashes, as in the web view.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app
from sqlalchemy import func, select

from search_app.api import bp, iso
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.actions import OUTCOME_LABELS, Action, action_label
from search_app.audit.models import AuditRecord
from search_app.audit.match_budget import MatchRefused, match_value
from search_app.audit.redaction import hashes_of
from search_app.audit.anomalies import find_anomalies
from search_app.audit.service import Event, record_event, request_actor, verify_chain
from search_app.audit.views import FilterError, export_csv, filtered_records, user_summary
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires, role_labels
from search_app.timeutil import local_time, utcnow


def record_json(r: AuditRecord) -> dict:
    return {"seq": r.seq, "ts": iso(r.ts), "ts_local": local_time(r.ts, "%Y-%m-%d %H:%M:%S"),
            "username": r.username, "role": r.role, "role_label": role_labels(r.role) if r.role else "",
            "action": r.action, "action_label": action_label(r.action), "outcome": r.outcome,
            "outcome_label": OUTCOME_LABELS.get(r.outcome, r.outcome), "reason": r.reason,
            "purpose": r.purpose, "approval_ref": r.approval_ref, "grant_id": r.grant_id,
            "query": r.query, "pii_hmacs": hashes_of(r.filters), "result_count": r.result_count,
            "returned_ids": list(r.returned_ids or []), "client_addr": r.client_addr}


@bp.get("/audit/records")
@requires(Permission.AUDIT_READ)
@documented("查阅审计记录（按用户、操作、结果、审批编号、事由、单位、本地日期、值哈希筛选；分页）",
            query=s.AuditQuery, ok=s.AuditPage, tag="审计",
            description="最新的在前。本次查阅本身写入一条 audit.view 记录（audit_seq）。")
def audit_records(query: s.AuditQuery):
    return _records_page(_filters(query), query, Action.AUDIT_VIEW)


def _filters(query) -> dict[str, str]:
    return {k: v for k, v in query.model_dump().items()
            if k not in ("page", "page_size") and isinstance(v, str) and v.strip()}


def _records_page(args: dict[str, str], query, action: Action, **extra):
    """One page of the records `args` select, newest first, audited as `action` (a bad filter:
    400, audited as denied), as the web table shows them."""
    session = get_session()
    try:
        stmt = filtered_records(args)
    except FilterError as exc:
        record_event(request_actor(), Event(action=action, outcome="denied", reason=str(exc),
                                            filters=args))
        return render_error(400, str(exc))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(AuditRecord.seq.desc())
                           .offset((query.page - 1) * query.page_size)
                           .limit(query.page_size)).scalars().all()
    rec = record_event(request_actor(), Event(action=action, outcome="allowed", result_count=total,
                                              filters={**args, "page": query.page, "api": True}))
    more = total > query.page * query.page_size
    return {**extra, "total": total, "page": query.page, "page_size": query.page_size,
            "next_page": query.page + 1 if more else None, "audit_seq": rec.seq,
            "records": [record_json(r) for r in rows]}


@bp.get("/audit/users/<username>")
@requires(Permission.AUDIT_READ)
@documented("一个人的活动：其审计记录（分页）、按操作与结果的计数、最近 30 天的异常提示",
            query=s.UserActivityQuery, ok=s.UserActivity, tag="审计",
            description="本次查阅写入一条 audit.user_view 记录。")
def audit_user(username: str, query: s.UserActivityQuery):
    user, summary, flags = user_summary(get_session(), username)
    return _records_page(
        {**_filters(query), "username": username}, query, Action.AUDIT_USER_VIEW,
        username=username, display_name=user.display_name if user else None,
        unit=user.unit if user else None, role_label=role_labels(user.role) if user else None,
        summary=[{"action": a, "action_label": action_label(a), "outcome": o,
                  "outcome_label": OUTCOME_LABELS.get(o, o), "count": n} for a, o, n in summary],
        flags=[flag_json(f) for f in flags])


@bp.get("/audit/export.csv")
@requires(Permission.AUDIT_READ)
@documented("导出筛选出的审计记录（CSV，最早的在前）", query=s.AuditExportQuery, ok=None,
            media="text/csv", tag="审计", description="本次导出写入一条 audit.export 记录。")
def audit_export(query: s.AuditExportQuery):
    try:
        name, body = export_csv(_filters(query))
    except FilterError as exc:
        return render_error(400, str(exc))
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.post("/audit/match")
@requires(Permission.AUDIT_READ)
@documented("把一个号码或姓名换成它在日志中的值哈希（用于 records 的 pii 筛选）", body=s.MatchBody,
            ok=s.MatchOut, tag="审计", errors=(429,),
            description="值只在服务器上计算哈希，记录中只留哈希（audit.match）；放在请求体里，不进地址与"
                        "访问日志。每名审计员每日可查的不同值有上限（AUDIT_MATCH_MAX_PER_DAY），超过答 429。")
def audit_match(body: s.MatchBody):
    try:
        return {"pii": match_value(body.value, actor=request_actor())}
    except MatchRefused as exc:
        return render_error(429, str(exc))


@bp.get("/audit/anomalies")
@requires(Permission.AUDIT_READ)
@documented("异常提示（短时间大量查询、非工作时间、精确查找过多、多次被拒、哈希链告警）",
            query=s.AnomalyQuery, ok=s.AnomalyList, tag="审计")
def audit_anomalies(query: s.AnomalyQuery):
    recs = get_session().execute(select(AuditRecord).where(
        AuditRecord.ts >= utcnow() - timedelta(days=query.days))).scalars()
    flags = find_anomalies(recs, current_app.config)
    record_event(request_actor(), Event(action=Action.AUDIT_ANOMALIES, outcome="allowed",
                                        result_count=len(flags), filters={"days": query.days, "api": True}))
    return {"days": query.days, "flags": [flag_json(f) for f in flags]}


def flag_json(f) -> dict:
    return {"kind": f.kind, "label": f.label, "username": f.username, "detail": f.detail,
            "first_ts": iso(f.first_ts), "first_ts_local": local_time(f.first_ts), "seqs": f.seqs}


@bp.get("/audit/verify")
@requires(Permission.AUDIT_READ)
@documented("校验审计日志的哈希链（含库外检查点）", ok=s.ChainReportOut, tag="审计",
            description="发现任何修改、删除、重排或截断时 ok 为 false，problems 逐条说明。本次校验写入一条 audit.view 记录。")
def audit_verify():
    report = verify_chain(get_session())
    record_event(request_actor(), Event(action=Action.AUDIT_VIEW, outcome="allowed",
                                        result_count=report.records,
                                        filters={"verify": True, "ok": report.ok, "api": True}))
    summary = (f"哈希链完整：共校验 {report.records} 条" if report.ok
               else f"哈希链已被破坏：共校验 {report.records} 条，发现 {len(report.problems)} 处问题")
    return {"ok": report.ok, "records": report.records, "checkpoints": report.checkpoints,
            "problems": report.problems, "summary": summary}
