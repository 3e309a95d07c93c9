"""The catalogue (档案目录) over the API, for the system admin: every list with its disabled
entries and former names, the 档号 rules, and the same changes as the web screen (add, rename,
enable/disable, set a rule). search_app.catalogue.services checks and audits each change; an
invalid one is a 400 naming why, as on the screen."""
from __future__ import annotations

from indexer.archive_no import example
from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json
from search_app.audit.service import request_actor
from search_app.catalogue import rules
from search_app.catalogue.models import KIND_LABELS
from search_app.catalogue.services import (CatalogueError, CatalogueMissing, add_entry,
                                           all_entries, all_rules, rename_entry, set_enabled)
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires

_ENTRY = ("id", "code", "name", "enabled", "former_names", "created_at", "updated_at")
_OPTIONAL = ("level", "years", "default_fields", "max_fields")
_RULE = ("id", "fonds_code", "category_code", "pattern", "enabled", "updated_at")


def entry_json(kind: str, entry) -> dict:
    out = row_json(entry, _ENTRY, kind=kind, kind_label=KIND_LABELS[kind],
                   **{f: getattr(entry, f) for f in _OPTIONAL if hasattr(entry, f)})
    if hasattr(entry, "max_hours"):
        out["max_days"] = entry.max_hours / 24 if entry.max_hours else None
    return out


def rule_json(rule) -> dict:
    return row_json(rule, _RULE, example=example(rule.pattern, rule.fonds_code, rule.category_code))


def _change(fn):
    """Run one audited change and commit it; a CatalogueError is a 400 (404 for a list or entry
    that does not exist) and nothing is saved."""
    session = get_session()
    try:
        out = fn(session)
        session.commit()
    except CatalogueError as exc:
        session.rollback()
        return None, render_error(404 if isinstance(exc, CatalogueMissing) else 400, f"未保存：{exc}")
    return out, None


@bp.get("/catalogue")
@requires(Permission.CATALOGUE_MANAGE)
@documented("档案目录：全宗、门类、单位、密级、保管期限、查阅目的类别（含已停用）与档号规则",
            ok=s.CatalogueOut, tag="档案目录")
def catalogue_index():
    session = get_session()
    return {"lists": {kind: [entry_json(kind, e) for e in rows]
                      for kind, rows in all_entries(session).items()},
            "labels": KIND_LABELS, "rules": [rule_json(r) for r in all_rules(session)]}


@bp.post("/catalogue/<kind>")
@requires(Permission.CATALOGUE_MANAGE)
@documented("新增目录条目（代码一经使用不能重复；已审计）", body=s.CatalogueAddBody,
            ok=s.CatalogueEntryOut, status=201, errors=(404,), tag="档案目录",
            description="kind：fonds 全宗、category 门类、unit 单位、classification 密级（须填 level）、"
                        "retention 保管期限（years，永久不填）、purpose 查阅目的类别（字段与天数限制）。")
def catalogue_add(kind: str, body: s.CatalogueAddBody):
    entry, error = _change(lambda session: add_entry(
        session, request_actor(), kind, code=body.code, name=body.name, level=body.level,
        years=body.years, default_fields=list(body.default_fields),
        max_fields=list(body.max_fields) if body.max_fields is not None else None,
        max_hours=body.max_days * 24 if body.max_days is not None else None))
    return error or (entry_json(kind, entry), 201)


@bp.post("/catalogue/<kind>/<int:entry_id>/rename")
@requires(Permission.CATALOGUE_MANAGE)
@documented("更名（代码不变，原名称保留为曾用名，按旧名称索引的页面仍在授权内）",
            body=s.CatalogueRenameBody, ok=s.CatalogueEntryOut, errors=(404,), tag="档案目录")
def catalogue_rename(kind: str, entry_id: int, body: s.CatalogueRenameBody):
    entry, error = _change(lambda session: rename_entry(session, request_actor(), kind, entry_id,
                                                        body.name))
    return error or entry_json(kind, entry)


@bp.post("/catalogue/<kind>/<int:entry_id>/enabled")
@requires(Permission.CATALOGUE_MANAGE)
@documented("启用或停用条目（停用的不再用于新的申请和导入；已有授权与文件不变）",
            body=s.CatalogueEnableBody, ok=s.CatalogueEntryOut, errors=(404,), tag="档案目录")
def catalogue_enable(kind: str, entry_id: int, body: s.CatalogueEnableBody):
    entry, error = _change(lambda session: set_enabled(session, request_actor(), kind, entry_id,
                                                       body.enabled))
    return error or entry_json(kind, entry)


@bp.post("/catalogue/rules")
@requires(Permission.CATALOGUE_MANAGE)
@documented("设置一个全宗/门类的档号规则（启用后不合规则的清单行被拒绝导入）",
            body=s.ArchiveNoRuleBody, ok=s.ArchiveNoRuleOut, tag="档案目录")
def catalogue_rule(body: s.ArchiveNoRuleBody):
    saved, error = _change(lambda session: rules.set_rule(
        session, request_actor(), fonds_code=body.fonds_code, category_code=body.category_code,
        pattern=body.pattern, enabled=body.enabled))
    return error or rule_json(saved)
