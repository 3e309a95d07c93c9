"""Who am I."""
from __future__ import annotations

from pydantic import Field

from search_app.api.schemas._base import Output


class RoleOut(Output):
    code: str
    label: str


class Me(Output):
    id: int
    username: str
    display_name: str
    unit: str
    roles: list[RoleOut]
    permissions: list[str]
    token_expires_at: str | None = Field(description="ISO 8601, UTC（带 Z）")
