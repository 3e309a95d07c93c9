"""The system admin's catalogue screen (档案目录管理): add, rename, disable and enable 全宗, 门类,
units, 密级, 保管期限 and purpose categories, and set the 档号 pattern of a 全宗/门类. The services
check and audit every change; these views only parse forms and show the outcome."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from indexer.archive_no import PARTS, example
from indexer.vocab import PII_KINDS
from search_app.audit.service import request_actor
from search_app.catalogue import rules
from search_app.catalogue.models import KIND_LABELS
from search_app.catalogue.services import (CatalogueError, add_entry, all_entries, all_rules,
                                           lists, rename_entry, set_enabled)
from search_app.db import get_session
from search_app.permissions import Permission, requires

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
T = TypeVar("T")


def init_app(app: Flask) -> None:
    from search_app.catalogue import cli
    from search_app.catalogue.browse_view import bp as browse_bp

    cli.init_app(app)
    app.register_blueprint(bp)
    app.register_blueprint(browse_bp)
    app.add_template_global(lists, "catalogue_lists")  # forms list what the catalogue holds


def _number(raw: str | None, label: str, *, integer: bool = False) -> float | int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return int(raw) if integer else float(raw)
    except ValueError:
        raise CatalogueError(f"{label}必须是数字，收到 {raw!r}") from None


@bp.route("/")
@requires(Permission.CATALOGUE_MANAGE)
def index():
    session = get_session()
    return render_template("catalogue.html", entries=all_entries(session), labels=KIND_LABELS,
                           rules=all_rules(session), example=example, parts=list(PARTS),
                           pii_kinds=PII_KINDS)


def _saved(change: Callable[..., T], message: Callable[[T], str]):
    """Run one catalogue change (the service checks and audits it) and commit it; the flash says
    what was saved, or why not (the change rolled back)."""
    session = get_session()
    try:
        result = change(session)
        session.commit()
    except CatalogueError as exc:
        session.rollback()
        flash(f"未保存：{exc}", "error")
        return redirect(url_for("catalogue.index")), 303
    flash(message(result), "info")
    return redirect(url_for("catalogue.index")), 303


@bp.route("/<kind>/add", methods=["POST"])
@requires(Permission.CATALOGUE_MANAGE)
def add(kind: str):
    form = request.form

    def change(session) -> None:
        hours = _number(form.get("max_days"), "最长天数")
        add_entry(session, request_actor(), kind, code=form.get("code", ""),
                  name=form.get("name", ""),
                  level=_number(form.get("level"), "密级级别", integer=True),
                  years=_number(form.get("years"), "保管年限", integer=True),
                  default_fields=form.getlist("default_fields"),
                  max_fields=form.getlist("max_fields") if form.get("limit_fields") == "on" else None,
                  max_hours=hours * 24 if hours is not None else None)
    return _saved(change,
                  lambda _: f"已新增{KIND_LABELS.get(kind, kind)}：{form.get('name', '').strip()}")


@bp.route("/<kind>/<int:entry_id>/rename", methods=["POST"])
@requires(Permission.CATALOGUE_MANAGE)
def rename(kind: str, entry_id: int):
    return _saved(lambda session: rename_entry(session, request_actor(), kind, entry_id,
                                               request.form.get("name", "")),
                  lambda entry: f"已更名为：{entry.name}（原名称保留为曾用名）")


@bp.route("/<kind>/<int:entry_id>/toggle", methods=["POST"])
@requires(Permission.CATALOGUE_MANAGE)
def toggle(kind: str, entry_id: int):
    enable = request.form.get("enabled") == "1"
    return _saved(lambda session: set_enabled(session, request_actor(), kind, entry_id, enable),
                  lambda entry: f"已{'启用' if enable else '停用'}：{entry.name}")


@bp.route("/rules", methods=["POST"])
@requires(Permission.CATALOGUE_MANAGE)
def rule():
    form = request.form
    return _saved(lambda session: rules.set_rule(session, request_actor(),
                                                 fonds_code=form.get("fonds_code", ""),
                                                 category_code=form.get("category_code", ""),
                                                 pattern=form.get("pattern", ""),
                                                 enabled=form.get("enabled", "1") == "1"),
                  lambda saved: f"已保存档号规则：{saved.pattern}"
                                f"（例：{example(saved.pattern, saved.fonds_code, saved.category_code)}）")
