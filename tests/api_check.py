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


def api_fixture(seen: set[tuple[str, str, int]]):
    """A pytest fixture `api(user) -> ApiClient` (a fresh bearer token per user) that adds what
    its clients exercised to the module's `seen`, for its test that every operation was called."""
    import pytest

    @pytest.fixture()
    def api(app, ctx):
        from search_app.accounts.services import issue_api_token
        from search_app.db import get_session

        clients: list[ApiClient] = []

        def make(user) -> ApiClient:
            token = issue_api_token(get_session(), user)
            get_session().commit()
            clients.append(ApiClient(app, token))
            return clients[-1]
        yield make
        for c in clients:
            seen.update(c.exercised)
    return api


def assert_role_refused(client: ApiClient, user, method: str, path: str, body=None) -> None:
    """403 naming the missing permission, and the refusal audited as route:<endpoint>."""
    from tests.conftest import audit_records

    resp = client.open(method, path, **({"json": body} if body is not None else {}))
    assert resp.status_code == 403 and "没有此项权限" in resp.get_json()["message"], \
        f"ALLOWED: {user.role} {method} {path} answered {resp.status_code} {resp.get_json()}"
    endpoint = client.app.url_map.bind("localhost").match(path.split("?")[0], method=method)[0]
    assert audit_records(f"route:{endpoint}", username=user.username, outcome="denied"), \
        f"the refusal of {method} {path} to {user.role} was not audited"
