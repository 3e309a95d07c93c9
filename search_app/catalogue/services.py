"""Reading and changing the catalogue. Every change is audited in the session that holds it (the
change and its record commit together or not at all); reads are cached per request, since a
form or a manifest check asks for the same lists many times."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_app_context
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from indexer.archive_no import Rule
from indexer.vocab import PII_KINDS, Vocabulary
from search_app import limits
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.catalogue.models import (KIND_LABELS, KINDS, ArchiveNoRule, Category,
                                         Classification, Fonds, PurposeCategory, Retention, Unit)
from search_app.db import get_session


class CatalogueError(ValueError):
    """A catalogue change is invalid; the message says why, in Chinese."""


class CatalogueMissing(CatalogueError):
    """The list or the entry named does not exist (the API's 404)."""


@dataclass(frozen=True)
class Purpose:
    name: str
    default_fields: tuple[str, ...] = ()
    max_fields: tuple[str, ...] | None = None
    max_hours: float | None = None


@dataclass(frozen=True)
class Lists:
    """The enabled entries of every list, in display order, and the former names of each."""

    fonds: dict[str, str]            # 全宗号 → name
    categories: dict[str, str]       # name → 门类代码
    units: list[str]
    levels: dict[str, int]           # 密级 name → level
    retentions: dict[str, str]       # code → name
    purposes: dict[str, Purpose]
    rules: list[ArchiveNoRule] = field(default_factory=list)
    former: dict[str, dict[str, str]] = field(default_factory=dict)  # kind → old name → current

    @property
    def level_names(self) -> dict[int, str]:
        return {v: k for k, v in self.levels.items()}

    def vocabulary(self) -> Vocabulary:
        return Vocabulary(categories=tuple(self.categories), levels=dict(self.levels),
                          category_codes=dict(self.categories), fonds=tuple(self.fonds),
                          retentions=dict(self.retentions),
                          rules=tuple(Rule(r.fonds_code, r.category_code, r.pattern)
                                      for r in self.rules))


def _load(session: Session) -> Lists:
    # one query per list (its enabled entries and every entry's former names come from the same
    # rows), not two: every read resolves the catalogue, so each statement is a round trip of
    # every search (bench/api_profile.py)
    rows = {kind: list(session.execute(select(model).order_by(model.id)).scalars())
            for kind, model in KINDS.items()}
    former: dict[str, dict[str, str]] = {}
    for kind, entries in rows.items():
        for e in entries:
            for old in e.former_names or []:
                former.setdefault(kind, {})[old] = e.name

    def enabled(kind: str) -> list:
        return [e for e in rows[kind] if e.enabled]
    return Lists(
        fonds={f.code: f.name for f in enabled("fonds")},
        categories={c.name: c.code for c in enabled("category")},
        units=sorted(u.name for u in enabled("unit")),
        levels={c.name: c.level for c in sorted(enabled("classification"), key=lambda c: c.level)},
        retentions={r.code: r.name for r in enabled("retention")},
        purposes={p.name: Purpose(p.name, tuple(p.default_fields or ()),
                                  tuple(p.max_fields) if p.max_fields is not None else None,
                                  p.max_hours) for p in enabled("purpose")},
        rules=list(session.execute(select(ArchiveNoRule).where(ArchiveNoRule.enabled.is_(True))
                                   .order_by(ArchiveNoRule.id)).scalars()),
        former=former)


def former_names(kinds: tuple[str, ...] = ("category", "unit")) -> dict[str, dict[str, str]]:
    """kind → old name → current name, for `kinds` only, as `lists().former` has them: from the
    request's cached lists if it has them, else in one statement (a page view needs nothing
    else of the catalogue, and loading all of it was 13 round trips of every page view)."""
    if has_app_context() and "catalogue_lists" in g:
        return {k: v for k, v in g.catalogue_lists.former.items() if k in kinds}
    parts = [select(literal(kind).label("kind"), KINDS[kind].id, KINDS[kind].name,
                    KINDS[kind].former_names) for kind in kinds]
    stmt = union_all(*parts).subquery()
    former: dict[str, dict[str, str]] = {}
    for kind, _id, name, olds in get_session().execute(
            select(stmt).order_by(stmt.c.kind, stmt.c.id)):
        for old in olds or []:
            former.setdefault(kind, {})[old] = name
    return former


def lists(session: Session | None = None) -> Lists:
    """The catalogue as it is now (cached for the request or task; a change clears it)."""
    if session is None and has_app_context() and "catalogue_lists" in g:
        return g.catalogue_lists
    found = _load(session or get_session())
    if session is None and has_app_context():
        g.catalogue_lists = found
    return found


def all_entries(session: Session) -> dict[str, list]:
    """Every entry of every list, disabled ones too (what the admin screen and API manage)."""
    return {kind: list(session.execute(select(model).order_by(model.id)).scalars())
            for kind, model in KINDS.items()}


def all_rules(session: Session) -> list[ArchiveNoRule]:
    return list(session.execute(select(ArchiveNoRule).order_by(ArchiveNoRule.id)).scalars())


def forget() -> None:
    if has_app_context():
        g.pop("catalogue_lists", None)


def _audit(session: Session, actor: Actor, action: Action, kind: str, entry_code: str,
           detail: dict) -> None:
    record_event(actor, Event(action=action, outcome="allowed",
                              reason=f"{KIND_LABELS.get(kind, kind)} {entry_code}",
                              filters={"kind": kind, "code": entry_code, **detail}),
                 session=session)
    forget()


def _clean(label: str, value: str, maxlen: int) -> str:
    value = " ".join((value or "").split())
    if not value:
        raise CatalogueError(f"必须填写{label}")
    if len(value) > maxlen:
        raise CatalogueError(f"{label}不能超过 {maxlen} 个字符")
    return value


def _fields(raw: list[str] | None, label: str) -> list[str] | None:
    if raw is None:
        return None
    bad = [f for f in raw if f not in PII_KINDS]
    if bad:
        raise CatalogueError(f"{label}含未知的字段：{'、'.join(bad)}")
    return sorted(set(raw), key=list(PII_KINDS).index)


def add_entry(session: Session, actor: Actor, kind: str, *, code: str, name: str,
              level: int | None = None, years: int | None = None,
              default_fields: list[str] | None = None, max_fields: list[str] | None = None,
              max_hours: float | None = None) -> object:
    model = KINDS.get(kind)
    if model is None:
        raise CatalogueMissing(f"未知的目录类型：{kind}（可选：{'、'.join(KINDS)}）")
    label = KIND_LABELS[kind]
    code = _clean(f"{label}代码", code, 32).upper()
    name = _clean(f"{label}名称", name, 128)
    if session.execute(select(model).where(model.code == code)).scalar_one_or_none():
        raise CatalogueError(f"{label}代码 {code} 已存在（代码一经使用不能重复，可停用旧条目）")
    if session.execute(select(model).where(model.name == name)).scalar_one_or_none():
        raise CatalogueError(f"{label}名称“{name}”已存在")
    entry = model(code=code, name=name, enabled=True, former_names=[])
    detail: dict = {"name": name}
    if model is Classification:
        if level is None or session.execute(select(Classification).where(
                Classification.level == level)).scalar_one_or_none():
            raise CatalogueError("密级须填写一个尚未使用的级别数字（越大越机密）")
        entry.level = detail["level"] = int(level)
    if model is Retention:
        entry.years = detail["years"] = years
    if model is PurposeCategory:
        entry.default_fields = _fields(default_fields or [], "默认可显示字段") or []
        entry.max_fields = _fields(max_fields, "最多可显示字段")
        if entry.max_fields is not None and set(entry.default_fields) - set(entry.max_fields):
            raise CatalogueError("默认可显示字段不能超出最多可显示字段")
        if max_hours is not None and max_hours <= 0:
            raise CatalogueError("最长授权时长必须大于 0")
        entry.max_hours = max_hours
        detail.update(default_fields=entry.default_fields, max_fields=entry.max_fields,
                      max_hours=max_hours)
    session.add(entry)
    session.flush()
    _audit(session, actor, Action.CATALOGUE_ADD, kind, code, detail)
    return entry


def _entry(session: Session, kind: str, entry_id: int):
    model = KINDS.get(kind)
    entry = session.get(model, entry_id) if model else None
    if entry is None:
        raise CatalogueMissing(f"{KIND_LABELS.get(kind, kind)} #{entry_id} 不存在")
    return entry


def rename_entry(session: Session, actor: Actor, kind: str, entry_id: int, name: str) -> object:
    """The code stays (it is part of every 档号 and grant that names it); the old name is kept
    as a former name, so pages indexed under it are still found under the new one."""
    entry = _entry(session, kind, entry_id)
    label = KIND_LABELS[kind]
    name = _clean(f"{label}名称", name, 128)
    if name == entry.name:
        raise CatalogueError(f"新名称与原名称相同：{name}")
    model = KINDS[kind]
    if session.execute(select(model).where(model.name == name)).scalar_one_or_none():
        raise CatalogueError(f"{label}名称“{name}”已被其他条目使用")
    old = entry.name
    entry.former_names = [*(n for n in entry.former_names or [] if n != name), old]
    entry.name = name
    session.flush()
    _audit(session, actor, Action.CATALOGUE_RENAME, kind, entry.code, {"old": old, "new": name})
    return entry


def set_enabled(session: Session, actor: Actor, kind: str, entry_id: int, enabled: bool) -> object:
    """Disabled entries are no longer offered or accepted for new requests and ingests; existing
    grants and files that name them are untouched."""
    entry = _entry(session, kind, entry_id)
    if entry.enabled == enabled:
        raise CatalogueError(f"{KIND_LABELS[kind]}“{entry.name}”已{'启用' if enabled else '停用'}")
    entry.enabled = enabled
    session.flush()
    _audit(session, actor, Action.CATALOGUE_ENABLE if enabled else Action.CATALOGUE_DISABLE,
           kind, entry.code, {"name": entry.name})
    return entry


def register_unit(session: Session, actor: Actor, name: str) -> str | None:
    """A unit named by an ingested manifest row is registered (audited) the first time it is
    seen; a disabled unit refuses the row (its reason is returned)."""
    name = " ".join(name.split())
    known = session.execute(select(Unit).where(Unit.name == name)).scalar_one_or_none()
    if known is not None:
        return None if known.enabled else f"单位“{name}”已在档案目录中停用，不能再导入"
    if len(name) > limits.UNIT:
        return f"单位名称超过 {limits.UNIT} 个字符"
    count = session.execute(select(Unit.id)).all()
    entry = Unit(code=f"U{len(count) + 1:04d}", name=name, enabled=True, former_names=[])
    while session.execute(select(Unit).where(Unit.code == entry.code)).scalar_one_or_none():
        entry.code = f"U{int(entry.code[1:]) + 1:04d}"
    session.add(entry)
    session.flush()
    record_event(actor, Event(action=Action.CATALOGUE_ADD, outcome="allowed",
                              reason=f"单位 {entry.code}（导入时登记）",
                              filters={"kind": "unit", "code": entry.code, "name": name}),
                 session=session)
    forget()
    return None
