"""`@documented`: one declaration per API route gives its OpenAPI operation and parses its input.

A route states its summary, its body or query model and its response models (pydantic, in
search_app.api.schemas); the OpenAPI document is built from these declarations
(search_app.api.openapi), so code and document cannot drift, and the test that walks the URL
map fails for a route nobody documented. Input that does not fit the model is answered 400 with
a Chinese message naming the field, before the view runs; the role check (`@requires`, placed
above) runs before that, so a role refusal stays a 403 whatever the body holds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from search_app.errors import render_error

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    responses: dict[int, type[BaseModel] | None] = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    tag: str = ""
    # A multipart/form-data body (an upload): `form` models its text fields, `files` names its
    # file fields ({name: description}; a name ending in [] takes several files).
    form: type[BaseModel] | None = None
    files: dict[str, str] = field(default_factory=dict)
    # The success body's media type: JSON (described by the `ok` model) or a file such as
    # image/png or application/pdf (ok=None: a binary body). Errors are always JSON ErrorBody.
    media: str = "application/json"


def documented(summary: str, *, ok: type[BaseModel] | None, status: int = 200,
               body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
               errors: tuple[int, ...] = (), description: str = "", tag: str = "",
               media: str = "application/json", form: type[BaseModel] | None = None,
               files: dict[str, str] | None = None) -> Callable[[F], F]:
    """Declare an API route. With `body` (JSON) or `query` (query string), the parsed model is
    passed to the view as the keyword argument `body` or `query`; with `form` (multipart), the
    parsed text fields as `form` (the files stay in request.files). Every route may answer 401 and
    403 (token, role) and 503; list the other error statuses it gives in `errors`."""
    op = Operation(summary=summary, description=description or "", body=body, query=query,
                   responses={status: ok}, errors=tuple(sorted({401, 403, *errors})), tag=tag,
                   media=media, form=form, files=dict(files or {}))
    if (ok is None) != (media != "application/json"):
        raise TypeError(f"{summary}: a JSON answer names its model, a file answer (media) has none")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                if body is not None:
                    raw = request.get_json(silent=True)
                    if not isinstance(raw, dict):
                        return render_error(400, "请求体必须是 JSON 对象（Content-Type: application/json）")
                    kwargs["body"] = body.model_validate(raw)
                if form is not None:
                    if request.mimetype != "multipart/form-data":
                        return render_error(400, "请求体必须是 multipart/form-data（上传文件）")
                    kwargs["form"] = form.model_validate(request.form.to_dict())
                if query is not None:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
            except ValidationError as exc:
                return render_error(400, validation_message(exc))
            return view(*args, **kwargs)
        wrapped.api_operation = op  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]
    return decorator


_TYPE_WORDS = {"int": "整数", "string": "字符串", "bool": "true 或 false", "list": "数组",
               "float": "数字", "dict": "JSON 对象", "model": "JSON 对象"}


def _problem(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "缺少此字段"
    if kind == "extra_forbidden":
        return "不认识的字段（请对照 /api/v1/openapi.json）"
    if kind == "literal_error":
        return f"必须是 {ctx.get('expected', '')} 之一".replace("' or '", "'、'")
    if kind in ("string_too_long", "too_long"):
        return f"过长（最多 {ctx.get('max_length')} 个）"
    if kind in ("string_too_short", "too_short"):
        return f"过短（至少 {ctx.get('min_length')} 个）"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        word = {"greater_than": "大于", "greater_than_equal": "不小于",
                "less_than": "小于", "less_than_equal": "不大于"}[kind]
        limit = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        return f"必须{word} {limit}"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "")))
    for prefix, word in _TYPE_WORDS.items():
        if kind.startswith(prefix):
            return f"必须是{word}"
    return "格式不正确"


def validation_message(exc: ValidationError) -> str:
    """pydantic's (English) errors as one Chinese sentence naming each field: '字段 grant_id：必须是整数'."""
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "请求体"
        parts.append(f"字段 {where}：{_problem(err)}")
    return "请求参数有误：" + "；".join(parts)
