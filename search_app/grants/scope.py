"""What a grant request asks for, and the rules it must meet before anything is written: the
scope (门类, 单位, 密级上限, named 档号, a named person), the purpose and the duration. The
vocabulary it is checked against is indexer.vocab's; the errors say why, in Chinese."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from indexer.vocab import CATEGORIES, CLASSIFICATION_LEVELS, PII_KINDS
from search_app import limits
from search_app.accounts.models import User
from search_app.grants.models import Grant
from search_app.permissions import Permission, has_permission


class GrantError(ValueError):
    """A request or decision is invalid; the message says why."""


class GrantDenied(PermissionError):
    """No usable grant for this read; `reason` is shown to the user and written to the audit log."""

    def __init__(self, reason: str, grant: Grant | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.grant = grant


@dataclass(frozen=True)
class Scope:
    categories: list[str]
    units: list[str]
    classification: str
    archive_nos: list[str]


@dataclass(frozen=True)
class Request:
    purpose_category: str
    purpose: str
    scope: Scope
    hours: float
    unmask_fields: tuple[str, ...] = ()
    allow_lookup: bool = False
    subject_id: str = ""  # a named subject person's ID number: only the blind index is kept


def validate_request(user: User, req: Request) -> None:
    """Raise GrantError naming the first rule `req` breaks."""
    cfg = current_app.config
    if not has_permission(user.role, Permission.GRANT_REQUEST):
        raise GrantError(f"{user.username} 的角色不能查询档案，不能申请查询授权")
    if req.purpose_category not in cfg["PURPOSE_CATEGORIES"]:
        raise GrantError(f"查询事由类别必须是 {'、'.join(cfg['PURPOSE_CATEGORIES'])} 之一")
    if not req.purpose.strip():
        raise GrantError("必须填写查询事由")
    if too_long := limits.too_long("查询事由", req.purpose.strip(), limits.PURPOSE):
        raise GrantError(too_long)
    bad = [c for c in req.scope.categories if c not in CATEGORIES]
    if not req.scope.categories or bad:
        raise GrantError(f"档案门类必须从 {'、'.join(CATEGORIES)} 中选择" + (f"，无效：{bad}" if bad else ""))
    if not req.scope.units:
        raise GrantError("必须指定至少一个单位")
    if req.scope.classification not in CLASSIFICATION_LEVELS:
        raise GrantError(f"密级上限必须是 {'、'.join(CLASSIFICATION_LEVELS)} 之一")
    bad = [f for f in req.unmask_fields if f not in PII_KINDS]
    if bad:
        raise GrantError(f"未知的可显示字段：{bad}")
    if not 0 < req.hours <= cfg["GRANT_MAX_HOURS"]:
        raise GrantError(f"授权时长必须大于 0 且不超过 {cfg['GRANT_MAX_HOURS']} 小时")
    if req.subject_id and len("".join(req.subject_id.split())) not in (15, 18):
        raise GrantError("指定当事人须填写 15 或 18 位身份证号")
