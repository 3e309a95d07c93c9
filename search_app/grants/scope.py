"""What a grant request asks for, and the rules it must meet before anything is written: the
scope (门类, 单位, 密级上限, named 档号, a named person), the purpose and the duration. It is
checked against the catalogue tables (search_app.catalogue): the enabled 门类 and 密级, and the
purpose category with its limits (the unmaskable fields it allows at most, its longest duration);
the errors say why, in Chinese."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from indexer.vocab import PII_KINDS
from search_app import limits
from search_app.catalogue.services import Purpose, lists
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
    known = lists()
    if not has_permission(user.role, Permission.GRANT_REQUEST):
        raise GrantError(f"{user.username} 的角色不能查询档案，不能申请查询授权")
    purpose = known.purposes.get(req.purpose_category)
    if purpose is None:
        raise GrantError(f"查询事由类别必须是 {'、'.join(known.purposes)} 之一")
    if not req.purpose.strip():
        raise GrantError("必须填写查询事由")
    if too_long := limits.too_long("查询事由", req.purpose.strip(), limits.PURPOSE):
        raise GrantError(too_long)
    bad = [c for c in req.scope.categories if c not in known.categories]
    if not req.scope.categories or bad:
        raise GrantError(f"档案门类必须从 {'、'.join(known.categories)} 中选择" + (f"，无效：{bad}" if bad else ""))
    if not req.scope.units:
        raise GrantError("必须指定至少一个单位")
    if req.scope.classification not in known.levels:
        raise GrantError(f"密级上限必须是 {'、'.join(known.levels)} 之一")
    bad = [f for f in req.unmask_fields if f not in PII_KINDS]
    if bad:
        raise GrantError(f"未知的可显示字段：{bad}")
    if not 0 < req.hours <= cfg["GRANT_MAX_HOURS"]:
        raise GrantError(f"授权时长必须大于 0 且不超过 {cfg['GRANT_MAX_HOURS']} 小时")
    if problem := purpose_limit_problem(purpose, req.unmask_fields, req.hours):
        raise GrantError(problem)
    if req.subject_id and len("".join(req.subject_id.split())) not in (15, 18):
        raise GrantError("指定当事人须填写 15 或 18 位身份证号")


def purpose_limit_problem(purpose: Purpose, fields: tuple[str, ...] | list[str],
                          hours: float) -> str | None:
    """Why a request (or an approval's duration) exceeds its purpose category's limits."""
    if purpose.max_fields is not None:
        over = [f for f in fields if f not in purpose.max_fields]
        if over:
            allowed = "、".join(PII_KINDS[f] for f in purpose.max_fields) or "（无）"
            return (f"查询事由类别“{purpose.name}”最多可显示：{allowed}；"
                    f"超出：{'、'.join(PII_KINDS.get(f, f) for f in over)}")
    if purpose.max_hours is not None and hours > purpose.max_hours:
        return (f"查询事由类别“{purpose.name}”的授权最长 {limit_text(purpose.max_hours)}，"
                f"申请了 {limit_text(hours)}")
    return None


def limit_text(hours: float) -> str:
    return f"{hours / 24:g} 天" if hours >= 24 and hours % 24 == 0 else f"{hours:g} 小时"
