"""The security admin's account management: users, the dual-control queue, login delays."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from search_app.api.schemas._base import Input, Output


class AdminUserOut(Output):
    id: int
    username: str
    display_name: str
    role: str = Field(description="角色代码，多个以逗号分隔")
    role_label: str
    unit: str
    is_enabled: bool
    created_at: str | None
    last_login_at: str | None
    created_by: str | None = Field(description="提出创建此账号的安全管理员（或 cli:<系统用户>）")
    last_reset_by: str | None
    identity_registered: bool = Field(description="是否已登记本人身份证号（只存哈希）")
    relatives: int = Field(description="已登记的亲属身份证号个数（只存哈希）")
    pending: list[str] = Field(description="待另一名安全管理员确认的变更（#编号 摘要）")
    login_delayed_until: str | None = Field(description="登录限速到何时（无限速为 null）")


class AdminUserList(Output):
    now: str
    users: list[AdminUserOut]


class AccountChangeOut(Output):
    id: int
    kind: Literal["create", "role", "enable", "reset_password"]
    kind_label: str
    user_id: int
    username: str
    summary: str
    proposed_by: str
    proposed_at: str
    status: Literal["pending", "confirmed", "rejected"]
    status_label: str
    decided_by: str | None
    decided_at: str | None
    decision_reason: str


class AccountChangeList(Output):
    changes: list[AccountChangeOut] = Field(description="待确认的在前（最早的在前），然后是最近的处理结果")


class AccountOutcome(Output):
    message: str = Field(description="做了什么，或待谁确认")
    changes: list[str]
    pending: list[AccountChangeOut] = Field(description="本次提出、待另一名安全管理员确认的变更")
    user: AdminUserOut


class DecisionOutcome(Output):
    message: str
    change: AccountChangeOut


class ThrottleOut(Output):
    key: str
    scope: Literal["account", "address", "pair"]
    scope_label: str
    username: str = Field(description="登录时输入的用户名（不一定是现有账号）")
    is_account: bool = Field(description="该用户名是否为现有账号")
    client_addr: str
    failures: int
    next_at: str | None
    last_failure_at: str | None


class ThrottleList(Output):
    now: str
    throttles: list[ThrottleOut]


class UserCreateBody(Input):
    username: str
    password: str = Field(description="初始密码（至少 8 位）")
    roles: list[str] = Field(description="角色代码，如 [\"staff\"]；职责分离规则同界面")
    display_name: str = ""
    unit: str = ""
    id_number: str = Field(default="", description="本人身份证号（用于自我回避；只存哈希）")
    relatives: str = Field(default="", description="亲属身份证号，逗号或换行分隔（只存哈希）")


class UserUpdateBody(Input):
    """Omitted fields stay as they are."""
    roles: list[str] | None = None
    display_name: str | None = None
    unit: str | None = None
    enabled: bool | None = None
    id_number: str = Field(default="", description="重新登记本人身份证号（改名时必填）")
    relatives: str = Field(default="", description="追加的亲属身份证号")


class UserActionBody(Input):
    action: Literal["unlock", "end_sessions", "reset_password", "clear_identity"]
    password: str = Field(default="", description="reset_password 的新密码")
    confirm: bool = Field(default=False, description="clear_identity 须为 true（不可撤回）")


class AccountDecisionBody(Input):
    decision: Literal["confirm", "reject"]
    reason: str = Field(default="", description="驳回理由（驳回时必填）")


class ThrottleLiftBody(Input):
    key: str = Field(min_length=1, max_length=80)
