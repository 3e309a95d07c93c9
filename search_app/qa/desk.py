"""What the QA screens and /api/v1/qa share: the reviewer's chosen scope, the queue it selects,
a page's earlier text versions, the four review actions and giving a scope by user name. The
reads and actions are checked and audited in search.qa_reads / qa.review / qa.scope."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.audit.service import Actor
from search_app.ingest.models import PageVersion
from search_app.qa import review
from search_app.qa.models import STATUSES, QaFile, QaPage, QaScope
from search_app.qa.scope import ScopeError, active_scopes, grant_scope, scope_files

QUEUE_MAX = 200
FLAG_FILTERS = {"blank": "空白页", "rotated": "已旋转", "low_dpi": "低分辨率", "weak": "低置信度"}
ACTIONS = {"accept": "判定合格", "rescan": "退回重扫", "correct": "更正文本", "reocr": "重新识别"}
_FLAG_WHERE = {"blank": QaPage.blank.is_(True), "rotated": QaPage.rotation != 0,
               "low_dpi": QaPage.low_dpi.is_(True), "weak": QaPage.ocr_confidence < 70}


def chosen_scope(session: Session, user: User, wanted: int | None) -> QaScope | None:
    """The active scope asked for, else the newest active one (None: the reviewer has none)."""
    scopes = active_scopes(session, user)
    return next((s for s in scopes if s.id == wanted), scopes[0] if scopes else None)


def queue(session: Session, scope: QaScope, status: str, flag: str
          ) -> tuple[list[QaPage], list[QaFile]]:
    """(pages, files whose page count disagrees) of the scope's batches; no page content."""
    file_ids = [f.id for f in scope_files(session, list(scope.job_ids))] or [0]
    stmt = select(QaPage).where(QaPage.file_id.in_(file_ids))
    if status in STATUSES:
        stmt = stmt.where(QaPage.status == status)
    if flag in _FLAG_WHERE:
        stmt = stmt.where(_FLAG_WHERE[flag])
    rows = list(session.execute(stmt.order_by(QaPage.job_id, QaPage.archive_no, QaPage.page_no)
                                .limit(QUEUE_MAX)).scalars())
    mismatches = list(session.execute(select(QaFile).where(
        QaFile.file_id.in_(file_ids), QaFile.mismatch != "")).scalars())
    return rows, mismatches


def versions(session: Session, doc_id: str) -> list:
    """The page's replaced text versions (when, by whom, from what), never their text."""
    return list(session.execute(
        select(PageVersion.id, PageVersion.replaced_at, PageVersion.replaced_by,
               PageVersion.text_source, PageVersion.ocr_confidence)
        .where(PageVersion.doc_id == doc_id).order_by(PageVersion.id)).all())


def act(what: str, *, reason: str = "", text: str = "", **args) -> str:
    """Run one review action (`args`: user, scope_id, doc_id, client_addr); what was done, in
    Chinese. review.ReviewRefused says why an action was not taken; ReadDenied a page outside
    the scope."""
    doc_id = args["doc_id"]
    if what == "accept":
        review.accept(**args)
        return f"{doc_id} 已判定合格"
    if what == "rescan":
        review.send_for_rescan(reason=reason, **args)
        return f"{doc_id} 已退回重扫"
    if what == "correct":
        version = review.correct(text=text, **args)
        return f"{doc_id} 已更正为第 {version} 版文本并重新索引；旧版本已保留"
    if what == "reocr":
        conf = review.reocr_page(**args)
        return f"{doc_id} 已重新识别（置信度 {conf or 0:.1f}）；旧版本已保留"
    raise review.ReviewRefused(f"未知的质检操作：{what}（可选：{'、'.join(ACTIONS)}）")


def give_scope(session: Session, actor: Actor, *, reviewer: str, **kwargs) -> QaScope:
    """grant_scope for the reviewer named; the caller commits."""
    user = session.execute(select(User).where(User.username == reviewer.strip())).scalar_one_or_none()
    if user is None:
        raise ScopeError(f"没有这个用户：{reviewer.strip()[:64]}")
    return grant_scope(session, actor, reviewer=user, **kwargs)


def scope_list(session: Session, limit: int = 200) -> list:
    """(scope, reviewer's user name) of every scope, newest first (the security admin's list)."""
    return list(session.execute(select(QaScope, User.username).join(User, User.id == QaScope.user_id)
                                .order_by(QaScope.id.desc()).limit(limit)).all())
