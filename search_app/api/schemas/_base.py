"""The two kinds of model (strict, closed inputs; open outputs) and the error body."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Output(BaseModel):
    """Responses are open: a route may add a field before its model documents it, and the
    response test still checks every documented one."""

    model_config = ConfigDict(extra="allow")


class ErrorBody(Output):
    error: str = Field(description="状态的中文名称，如“请求无效”“无权访问”")
    message: str = Field(description="为什么：中文说明，指出字段或拒绝理由")
    status: int


class OpenApiDocument(Output):
    openapi: str
    info: dict
    paths: dict
    components: dict
