"""A test client for /api/v1 that checks every response against the OpenAPI document.

`ApiClient(app, token).get/post(...)` returns the response after asserting that the route is in
the document with the response's status and that the body validates against that status's
schema (JSON Schema 2020-12, as pydantic writes it). Use it in every API test, so a response
that drifts from its model fails where it happens; `exercised` names the operations called.
"""
from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from werkzeug.exceptions import MethodNotAllowed, NotFound

_DOCS: dict[int, dict[str, Any]] = {}


def openapi_document(app) -> dict[str, Any]:
    if id(app) not in _DOCS:
        resp = app.test_client().get("/api/v1/openapi.json")
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        _DOCS[id(app)] = resp.get_json()
    return _DOCS[id(app)]


def operation_for(app, method: str, path: str) -> tuple[str, dict[str, Any]]:
    """(operationId, operation) of the route serving `method path`, from the document."""
    try:
        endpoint, _ = app.url_map.bind("localhost").match(path.split("?")[0], method=method)
    except (NotFound, MethodNotAllowed):
        raise AssertionError(f"{method} {path}: no such route") from None
    for ops in openapi_document(app)["paths"].values():
        op = ops.get(method.lower())
        if op and op["operationId"] == endpoint:
            return endpoint, op
    raise AssertionError(f"{method} {path} ({endpoint}) is not in /api/v1/openapi.json: "
                         "declare it with @documented (docs/api.md)")


def check_response(app, method: str, path: str, status: int, body: Any) -> str:
    endpoint, op = operation_for(app, method, path)
    declared = op["responses"].get(str(status))
    assert declared, (f"{method} {path} answered {status}, which its OpenAPI operation does not "
                      f"declare (declared: {sorted(op['responses'])}); body: {str(body)[:300]}")
    schema = declared["content"]["application/json"]["schema"]
    root = {**schema, "components": openapi_document(app)["components"]}
    errors = sorted(Draft202012Validator(root).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, (f"{method} {path} {status}: the body does not match {schema['$ref']}: "
                        + "; ".join(f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}"
                                    for e in errors[:5]))
    return endpoint


def check_file(app, method: str, path: str, status: int, mimetype: str) -> str:
    """A file answer (PNG, PDF, CSV, XLSX): its status is declared with exactly that media type."""
    endpoint, op = operation_for(app, method, path)
    declared = op["responses"].get(str(status))
    assert declared, f"{method} {path} answered {status}, undeclared (declared: {sorted(op['responses'])})"
    assert mimetype in declared["content"], (f"{method} {path} {status} answered {mimetype}; the "
                                             f"document declares {sorted(declared['content'])}")
    return endpoint


class ApiClient:
    def __init__(self, app, token: str | None = None) -> None:
        self.app, self.client = app, app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.exercised: set[tuple[str, str, int]] = set()

    def open(self, method: str, path: str, **kwargs):
        resp = self.client.open(path, method=method, headers=self.headers, **kwargs)
        if not resp.is_json and resp.status_code < 300:
            endpoint = check_file(self.app, method, path, resp.status_code, resp.mimetype)
            self.exercised.add((endpoint, method.lower(), resp.status_code))
            return resp
        assert resp.is_json, f"{method} {path}: {resp.status_code} is not JSON: {resp.get_data(as_text=True)[:200]}"
        endpoint = check_response(self.app, method, path, resp.status_code, resp.get_json())
        self.exercised.add((endpoint, method.lower(), resp.status_code))
        return resp

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)
