"""The OpenAPI 3.1 document of /api/v1, built from the app's URL map and each route's
`@documented` declaration (search_app.api._doc), with the JSON Schemas of the pydantic models
those declarations name as components (a model may live in any module). apispec assembles and checks the document's structure. A route under /api/v1 with no
declaration is left out here and fails tests/test_api_openapi.py, which is how a new route is
kept from going undocumented.
"""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import Flask, current_app
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from search_app.api import schemas
from search_app.api._doc import Operation
from search_app.errors import DEFAULT_MESSAGES, TITLES

PREFIX = "/api/v1"
_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")
_PARAM_TYPES = {"int": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},  # BoundedInt
                "float": {"type": "number"}}
_REF = "#/components/schemas/{model}"


def _models(operations: list[Operation]) -> list[type[BaseModel]]:
    """The models the routes declare (nested ones follow as $defs), and the error body."""
    found: dict[str, type[BaseModel]] = {"ErrorBody": schemas.ErrorBody}
    for op in operations:
        for model in (op.body, op.query, op.form, *op.responses.values()):
            if model is not None:
                found[model.__name__] = model
    return [found[name] for name in sorted(found)]


def component_schemas(operations: list[Operation]) -> dict[str, Any]:
    """Those models as JSON Schemas, refs pointing into components."""
    _, top = models_json_schema([(m, "validation") for m in _models(operations)], ref_template=_REF)
    return top.get("$defs", {})


def _path_and_params(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = [{"name": name, "in": "path", "required": True,
               "schema": _PARAM_TYPES.get(conv or "", {"type": "string"})}
              for conv, name in _CONVERTER.findall(rule)]
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), params


def _query_params(model: type[BaseModel]) -> list[dict[str, Any]]:
    props = model.model_json_schema(ref_template=_REF)["properties"]
    return [{"name": name, "in": "query", "required": f.is_required(), "schema": props[name],
             **({"description": f.description} if f.description else {})}
            for name, f in model.model_fields.items()]


def _json(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model.__name__)}}}


def _multipart(op: Operation) -> dict[str, Any]:
    """The form model's text fields and the declared file fields (binary)."""
    binary = {"type": "string", "format": "binary"}
    files = {name.removesuffix("[]"): ({"type": "array", "items": binary, "description": text}
                                       if name.endswith("[]") else {**binary, "description": text})
             for name, text in op.files.items()}
    return {"allOf": [{"$ref": _REF.format(model=op.form.__name__)},
                      {"type": "object", "properties": files}]}


def _operation(endpoint: str, view: Any, op: Operation, path_params: list[dict]) -> dict[str, Any]:
    perm = getattr(view, "required_permission", None)
    public = getattr(view, "is_public", False)
    out: dict[str, Any] = {
        "operationId": endpoint, "summary": op.summary, "tags": [op.tag or "api"],
        "description": (op.description + (f"\n\n权限：`{perm.value}`" if perm else "")).strip(),
        "parameters": path_params + (_query_params(op.query) if op.query else []),
        "responses": {str(code): {"description": "成功", "content": _json(model) if model else
                                  {op.media: {"schema": {"type": "string", "format": "binary"}}}}
                      for code, model in op.responses.items()},
    }
    if perm:
        out["x-permission"] = perm.value
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": _json(op.body)}
    if op.form is not None:
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": _multipart(op)}}}
    errors = () if public else (*op.errors, 503)
    if op.body is not None or op.query is not None or op.form is not None:
        errors = (400, *errors)
    for code in sorted(set(errors)):
        out["responses"][str(code)] = {"description": f"{TITLES.get(code, '错误')}：{DEFAULT_MESSAGES.get(code, '')}",
                                       "content": _json(schemas.ErrorBody)}
    out["security"] = [] if public else [{"bearer": []}]
    return out


def api_rules(app: Flask):
    """(rule, view) for every route under /api/v1 (what the coverage test walks too)."""
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/") or rule.rule == PREFIX:
            yield rule, app.view_functions[rule.endpoint]


def build_document(app: Flask) -> dict[str, Any]:
    spec = APISpec(title="档案检索系统 API", version="1", openapi_version="3.1.0",
                   info={"description": "Bearer 令牌认证（`flask issue-token <用户>`）；错误为 JSON："
                                        "`{error, message, status}`，message 为中文原因。见 docs/api.md。"},
                   servers=[{"url": PREFIX}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    paths: dict[str, dict[str, Any]] = {}
    declared: list[Operation] = []
    for rule, view in sorted(api_rules(app), key=lambda rv: rv[0].rule):
        op = getattr(view, "api_operation", None)
        if op is None:
            continue
        declared.append(op)
        path, params = _path_and_params(rule.rule[len(PREFIX):])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule.endpoint, view, op, params)
    for name, schema in sorted(component_schemas(declared).items()):
        spec.components.schema(name, schema)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document() -> dict[str, Any]:
    """Built once per app (the URL map does not change after start-up)."""
    ext = current_app.extensions
    if "openapi" not in ext:
        ext["openapi"] = build_document(current_app)
    return ext["openapi"]
