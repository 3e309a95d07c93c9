"""Audit queries for auditors over the API: the same filters, the same masking and the same
audit.view record as the web view (search_app.audit.views builds the query; nothing here
filters on its own). Free text in a record was masked when it was written, so what is returned
is what the web table shows; the records' raw `filters` are not returned, only their value
hashes, as in the web view.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from search_app.api import bp, iso
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.actions import OUTCOME_LABELS, Action, action_label
from search_app.audit.models import AuditRecord
from search_app.audit.redaction import candidate_hmacs, hashes_of
from search_app.audit.anomalies import find_anomalies
from search_app.audit.service import Event, record_event, request_actor, verify_chain
from search_app.audit.views import FilterError, filtered_records
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
    args = {k: v for k, v in query.model_dump().items()
            if k not in ("page", "page_size") and isinstance(v, str) and v.strip()}
    session = get_session()
    try:
        stmt = filtered_records(args)
    except FilterError as exc:
        record_event(request_actor(), Event(action=Action.AUDIT_VIEW, outcome="denied", reason=str(exc),
                                            filters=args))
        return render_error(400, str(exc))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(AuditRecord.seq.desc())
                           .offset((query.page - 1) * query.page_size)
                           .limit(query.page_size)).scalars().all()
    rec = record_event(request_actor(), Event(action=Action.AUDIT_VIEW, outcome="allowed",
                                              result_count=total,
                                              filters={**args, "page": query.page, "api": True}))
    more = total > query.page * query.page_size
    return {"total": total, "page": query.page, "page_size": query.page_size,
            "next_page": query.page + 1 if more else None, "audit_seq": rec.seq,
            "records": [record_json(r) for r in rows]}


@bp.post("/audit/match")
@requires(Permission.AUDIT_READ)
@documented("把一个号码或姓名换成它在日志中的值哈希（用于 records 的 pii 筛选）", body=s.MatchBody,
            ok=s.MatchOut, tag="审计",
            description="值只在服务器上计算哈希，不写入任何记录；放在请求体里，不进地址与访问日志。")
def audit_match(body: s.MatchBody):
    return {"pii": candidate_hmacs(body.value)}


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
    return {"days": query.days, "flags": [
        {"kind": f.kind, "label": f.label, "username": f.username, "detail": f.detail,
         "first_ts": iso(f.first_ts), "first_ts_local": local_time(f.first_ts), "seqs": f.seqs}
        for f in flags]}


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
