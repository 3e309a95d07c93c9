"""A request may only name units that are enabled in the catalogue tables and 档号 that exist in
the archive (the ingest records), and a named
档号 must lie inside the requested 门类 and units, or the grant would read nothing. Checked by
the web form and the API alike, before the request is written. Not part of `request_grant`
itself: demo data and test factories create grants before their files are ingested."""
from __future__ import annotations

from search_app.catalogue.services import lists
from search_app.grants.services import GrantError, Scope
from search_app.search import Catalogue, catalogue


def _problem(scope: Scope, known: Catalogue) -> str | None:
    units = [u for u in scope.units if u not in lists().units]
    if units:
        return f"单位不在档案目录中：{'、'.join(units)}（请从列表中选择已有的单位）"
    for no in scope.archive_nos:
        entry = known.file(no)
        if entry is None:
            return f"档号不存在：{no}（请从列表中选择已有的档号）"
        if entry.unit not in scope.units or entry.category not in scope.categories:
            return (f"档号 {no} 属于 {entry.unit}、{entry.category}，不在所申请的单位与门类内"
                    "（否则该授权读不到它）")
    return None


def check_scope_exists(scope: Scope) -> None:
    """GrantError naming the first unit or 档号 that does not exist; SearchUnavailable (503)
    when the catalogue cannot be read (the request is then not written: fail closed)."""
    if _problem(scope, catalogue()) is None:
        return
    problem = _problem(scope, catalogue(fresh=True))  # a file ingested in the last seconds
    if problem:
        raise GrantError(problem)
