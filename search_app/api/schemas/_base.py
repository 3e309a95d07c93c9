"""The two kinds of model (strict, closed inputs; open outputs) and the error body."""
from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

# Ids and page numbers reach SQL (32-bit integer columns, OFFSET) and engine requests:
# PostgreSQL fails the statement on a larger value where SQLite just finds nothing, which the
# API fuzz (tests/test_fuzz_api.py) turned into a 5xx. Bounded here, they are a 400 naming the
# limit. (Path ids are bounded by the app's `int` converter, search_app/__init__.py.)
INT32_MAX = 2**31 - 1
DbId = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
PageNo = Annotated[int, Field(ge=1, le=100_000)]


class Input(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Output(BaseModel):
    """Responses are open: a route may add a field before its model documents it, and the
    response test still checks every documented one."""

    model_config = ConfigDict(extra="allow")


def mirror(name: str, source: type, *, doc: str = "", **extra: Any) -> type[Output]:
    """An output model with the fields of a service dataclass (same names and types), plus
    `extra` fields as `(type, default-or-Field)`: the service module stays the one place the
    shape is written, so the response schema cannot drift from what the handler returns."""
    hints = typing.get_type_hints(source)
    fields = {f.name: (hints[f.name], ...) for f in dataclasses.fields(source)}
    fields.update(extra)
    model = create_model(name, __base__=Output, **fields)
    model.__doc__ = doc or None  # not the dataclass's generated signature
    return model


class ErrorBody(Output):
    error: str = Field(description="状态的中文名称，如“请求无效”“无权访问”")
    message: str = Field(description="为什么：中文说明，指出字段或拒绝理由")
    status: int


class OpenApiDocument(Output):
    openapi: str
    info: dict
    paths: dict
    components: dict
