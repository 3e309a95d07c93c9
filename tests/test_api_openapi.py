"""The OpenAPI document of /api/v1: generated from the code, valid OpenAPI 3.1, complete (every
route the app registers under /api/v1 is in it), and in Chinese where a person reads it."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from search_app.api.openapi import api_rules
from search_app.register.queries import XLSX
from tests.api_check import openapi_document

pytestmark = pytest.mark.integration


def test_document_is_served_without_a_token_and_is_valid_openapi(app):
    resp = app.test_client().get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.is_json
    doc = resp.get_json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises with the offending path


def test_every_api_route_is_documented(app):
    """A route added under /api/v1 without @documented fails here, naming it."""
    doc = openapi_document(app)
    documented = {(op["operationId"], method) for ops in doc["paths"].values()
                  for method, op in ops.items()}
    missing = [f"{m} {rule.rule} ({rule.endpoint})" for rule, _ in api_rules(app)
               for m in sorted(rule.methods - {"HEAD", "OPTIONS"})
               if (rule.endpoint, m.lower()) not in documented]
    assert not missing, ("routes under /api/v1 missing from /api/v1/openapi.json (declare them "
                         f"with @documented, see docs/api.md): {missing}")


def test_every_operation_declares_bodies_errors_and_permission(app):
    doc = openapi_document(app)
    schemas = doc["components"]["schemas"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op["summary"] and any("\u4e00" <= ch <= "\u9fff" for ch in op["summary"]), \
                f"{where}: the summary must say in Chinese what the route does"
            for status, resp in op["responses"].items():
                if status.startswith("2") and "application/json" not in resp["content"]:
                    (media, body), = resp["content"].items()  # a file: PNG, PDF
                    assert media in ("image/png", "application/pdf", "text/csv", XLSX) and \
                        body["schema"] == {"type": "string", "format": "binary"}, f"{where} {status}"
                    continue
                ref = resp["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in schemas, f"{where} {status}: {ref} is not a component"
                if status.startswith(("4", "5")):
                    assert ref.endswith("/ErrorBody"), f"{where} {status}: errors use ErrorBody"
            if op["security"]:  # every token-protected route can refuse a token and a role
                assert {"401", "403"} <= set(op["responses"]), f"{where}: 401/403 undeclared"
                assert op.get("x-permission") or op["operationId"] == "api.whoami", \
                    f"{where}: names no permission"
            if "requestBody" in op:
                assert "400" in op["responses"], f"{where}: a body can be invalid: declare 400"


def test_error_bodies_are_chinese_and_match_the_schema(app):
    """401, 404 and 405 under /api/v1 come back as the documented ErrorBody, in Chinese."""
    from tests.api_check import check_response

    client = app.test_client()
    resp = client.get("/api/v1/grants")
    assert resp.status_code == 401
    check_response(app, "GET", "/api/v1/grants", 401, resp.get_json())
    for path, method, status in (("/api/v1/no-such-thing", "GET", 404), ("/api/v1/search", "GET", 405)):
        resp = client.open(path, method=method, headers={"Authorization": "Bearer x"})
        body = resp.get_json()
        assert resp.status_code in (401, status) and set(body) == {"error", "message", "status"}, body
        assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body


@pytest.mark.parametrize("body,expected", [
    ({}, ["字段 grant_id：缺少此字段", "字段 q：缺少此字段"]),
    ({"grant_id": "1", "q": "x"}, ["字段 grant_id：必须是整数"]),
    ({"grant_id": 1, "q": 5}, ["字段 q：必须是字符串"]),
    ({"grant_id": 1, "q": "x", "page": 0}, ["字段 page：必须不小于 1"]),
    ({"grant_id": 1, "q": "x", "grnat": 1}, ["字段 grnat：不认识的字段"]),
])
def test_validation_messages_are_chinese_and_name_the_field(body, expected):
    """pydantic's English errors never reach a person: each becomes a Chinese phrase."""
    from pydantic import ValidationError

    from search_app.api import schemas as s
    from search_app.api._doc import validation_message

    with pytest.raises(ValidationError) as err:
        s.SearchBody.model_validate(body)
    message = validation_message(err.value)
    assert message.startswith("请求参数有误：") and all(e in message for e in expected), message
    assert not any(w in message for w in ("Field required", "Input should", "Extra inputs")), message


def test_decision_literal_is_explained():
    from pydantic import ValidationError

    from search_app.api import schemas as s
    from search_app.api._doc import validation_message

    with pytest.raises(ValidationError) as err:
        s.DecisionBody.model_validate({"decision": "maybe"})
    assert "字段 decision：必须是 'approve'、'deny' 之一" in validation_message(err.value)
