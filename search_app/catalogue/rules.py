"""Setting the 档号 pattern of a 全宗/门类 (audited). The pattern is checked when it is saved, so
an unusable one never reaches an ingest."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.archive_no import PatternError, compile_pattern, example
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.catalogue.models import ArchiveNoRule, Category, Fonds
from search_app.catalogue.services import CatalogueError, forget


def set_rule(session: Session, actor: Actor, *, fonds_code: str, category_code: str,
             pattern: str, enabled: bool = True) -> ArchiveNoRule:
    """Create or change the rule of (全宗, 门类); fonds_code "" applies to every 全宗."""
    fonds_code, category_code = fonds_code.strip().upper(), category_code.strip().upper()
    pattern = pattern.strip()
    if not session.execute(select(Category).where(Category.code == category_code)).scalar_one_or_none():
        raise CatalogueError(f"门类代码 {category_code} 不在档案目录中")
    if fonds_code and not session.execute(select(Fonds).where(Fonds.code == fonds_code)).scalar_one_or_none():
        raise CatalogueError(f"全宗号 {fonds_code} 不在档案目录中")
    if len(pattern) > 200:
        raise CatalogueError("档号规则不能超过 200 个字符")
    try:
        compile_pattern(pattern)
    except PatternError as exc:
        raise CatalogueError(str(exc)) from None
    rule = session.execute(select(ArchiveNoRule).where(
        ArchiveNoRule.fonds_code == fonds_code,
        ArchiveNoRule.category_code == category_code)).scalar_one_or_none()
    old = (rule.pattern, rule.enabled) if rule else None
    if rule is None:
        rule = ArchiveNoRule(fonds_code=fonds_code, category_code=category_code)
        session.add(rule)
    rule.pattern, rule.enabled = pattern, enabled
    session.flush()
    record_event(actor, Event(
        action=Action.CATALOGUE_RULE, outcome="allowed",
        reason=f"档号规则 {fonds_code or '（全部全宗）'}/{category_code}：{pattern}"
               + ("" if enabled else "（停用）"),
        filters={"fonds_code": fonds_code, "category_code": category_code, "pattern": pattern,
                 "example": example(pattern, fonds_code, category_code), "enabled": enabled,
                 "previous": list(old) if old else None}), session=session)
    forget()
    return rule
