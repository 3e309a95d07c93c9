from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from search_app.accounts.models import User
from indexer.vocab import SECOND_APPROVAL_LEVEL
from search_app.db import Base
from search_app.masked_text import MaskedText
from search_app.timeutil import local_time, utcnow


PENDING = ("pending", "pending_second")
STATUS_LABELS = {"pending": "待审批", "pending_second": "待第二审批人复核", "active": "已批准",
                 "denied": "已驳回", "lapsed": "逾期未审批", "withdrawn": "已撤回",
                 "revoked": "已撤销"}
# App servers' clocks may differ by a moment: a grant approved on one node is usable on another
# whose clock is slightly behind, rather than refused as "not yet valid".
CLOCK_SKEW = timedelta(seconds=5)


class Grant(Base):
    """A query scope: requested by its holder, approved by someone else (two people for 秘密 and
    above), usable from approval until expiry, revocable at once. Rows are never deleted, so the
    history of requests, denials and revocations stays visible."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    request_no: Mapped[str] = mapped_column(String(32), unique=True)
    # Assigned when the last required approval is given; what every read and audit record names.
    approval_ref: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    purpose_category: Mapped[str] = mapped_column(String(32), default="")
    purpose: Mapped[str] = mapped_column(MaskedText)
    categories: Mapped[list[str]] = mapped_column(JSON)
    units: Mapped[list[str]] = mapped_column(JSON)
    classification_ceiling: Mapped[int] = mapped_column(Integer)
    archive_nos: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A named subject person: the blind index of their ID number; only their files are in scope.
    subject_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    subject_label: Mapped[str] = mapped_column(String(64), default="")  # masked, for display
    unmask_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    allow_lookup: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_hours: Mapped[float] = mapped_column(Float, default=8.0)
    valid_from: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # pending | pending_second | active | denied | lapsed | withdrawn | revoked
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    second_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    second_approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decision_reason: Mapped[str] = mapped_column(MaskedText, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    second_approved_by: Mapped[User | None] = relationship(foreign_keys=[second_approved_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def ref(self) -> str:
        """The approval reference once approved, else the request number."""
        return self.approval_ref or self.request_no

    @property
    def needs_second_approval(self) -> bool:
        return self.classification_ceiling >= SECOND_APPROVAL_LEVEL

    def inactive_reason(self, now: datetime) -> str | None:
        """Why this grant cannot be used at `now`, or None if it can (checked on every read)."""
        if self.status in PENDING:
            return f"授权申请 {self.request_no} 尚未批准"
        if self.status == "denied":
            return f"授权申请 {self.request_no} 已被驳回：{self.decision_reason}"
        if self.status == "lapsed":
            return f"授权申请 {self.request_no} 未在期限内审批，已失效"
        if self.status == "withdrawn":
            return f"授权申请 {self.request_no} 已由申请人撤回"
        if self.status == "revoked":
            return f"授权 {self.ref} 已被撤销" + (f"：{self.decision_reason}" if self.decision_reason else "")
        if self.valid_from is None or self.valid_until is None:  # active without a period: refuse
            return f"授权 {self.ref} 没有记录有效期，不能使用，请联系审批人"
        if now + CLOCK_SKEW < self.valid_from:
            return f"授权 {self.ref} 尚未生效（{local_time(self.valid_from)} 起）"
        if now >= self.valid_until:
            return f"授权 {self.ref} 已于 {local_time(self.valid_until)} 过期"
        return None
