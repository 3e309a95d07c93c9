"""Flags an auditor should look at, computed from the records themselves (nothing is stored,
so a flag cannot be edited away): query bursts, reads outside working hours, many distinct PII
look-ups in a day, look-ups refused for exceeding the daily limit, repeated refusals, and chain
alerts. Thresholds come from configuration."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from search_app.audit.actions import READ_ACTIONS
from search_app.audit.actions import Action

KIND_LABELS = {"burst": "短时间大量查询", "off_hours": "非工作时间查询",
               "lookups": "大量精确查找", "lookup_refused": "精确查找超限被拒",
               "match_refused": "按值查找超限被拒",
               "denials": "多次被拒", "chain": "哈希链告警"}
# The reason of a look-up refused by LOOKUP_MAX_DISTINCT_PER_DAY starts with this (the flag below
# finds those refusals by it; search_app.search._lookup_budget writes it).
LOOKUP_LIMIT_REASON = "精确查找超过每日上限"
MATCH_LIMIT_REASON = "按值查找超过每日上限"  # search_app.audit.match_budget writes it


@dataclass
class Flag:
    kind: str
    username: str
    detail: str
    first_ts: datetime
    seqs: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _local(ts: datetime, tz: ZoneInfo) -> datetime:
    return ts.replace(tzinfo=UTC).astimezone(tz)


def _windows(recs: list[Any], minutes: int, threshold: int) -> list[list[Any]]:
    """Runs in which `threshold` records fall within `minutes` (a sliding window); overlapping
    windows merge into one run, so a long burst is one flag, not hundreds."""
    runs: list[tuple[int, int]] = []
    start = 0
    span = timedelta(minutes=minutes)
    for end in range(len(recs)):
        while recs[end].ts - recs[start].ts > span:
            start += 1
        if end - start + 1 >= threshold:
            if runs and start <= runs[-1][1]:
                runs[-1] = (runs[-1][0], end)
            else:
                runs.append((start, end))
    return [recs[a:b + 1] for a, b in runs]


def find_anomalies(records: Iterable[Any], cfg: Mapping[str, Any]) -> list[Flag]:
    tz = ZoneInfo(cfg["AUDIT_TIMEZONE"])
    start_h, end_h = cfg["AUDIT_WORK_HOURS"]  # parsed at start-up (search_app.config)
    by_user: dict[str, list[Any]] = defaultdict(list)
    flags: list[Flag] = []
    for rec in sorted(records, key=lambda r: r.seq):
        by_user[rec.username].append(rec)
        if rec.action == Action.AUDIT_ALERT:
            flags.append(Flag("chain", rec.username, rec.reason, rec.ts, [rec.seq]))
    for user, recs in by_user.items():
        reads = [r for r in recs if r.action in READ_ACTIONS and r.outcome == "allowed"]
        for run in _windows(reads, cfg["AUDIT_BURST_MINUTES"], cfg["AUDIT_BURST_READS"]):
            flags.append(Flag("burst", user, f"{cfg['AUDIT_BURST_MINUTES']} 分钟内 {len(run)} 次读取",
                              run[0].ts, [r.seq for r in run]))
        late = [r for r in reads if not start_h <= _local(r.ts, tz).hour < end_h]
        if late:
            flags.append(Flag("off_hours", user, f"{len(late)} 次读取在工作时间"
                              f"（{start_h:02d}-{end_h:02d} 时，{cfg['AUDIT_TIMEZONE']}）以外",
                              late[0].ts, [r.seq for r in late]))
        per_day: dict[str, dict[str, int]] = defaultdict(dict)
        for r in recs:
            if r.action == Action.PII_LOOKUP and r.outcome == "allowed":
                per_day[f"{_local(r.ts, tz):%Y-%m-%d}"].setdefault(
                    (r.filters or {}).get("value_hmac", ""), r.seq)
        for day, values in sorted(per_day.items()):
            if len(values) > cfg["AUDIT_LOOKUPS_PER_DAY"]:
                seqs = sorted(values.values())
                flags.append(Flag("lookups", user, f"{day} 精确查找了 {len(values)} 个不同的值",
                                  next(r.ts for r in recs if r.seq == seqs[0]), seqs))
        over = [r for r in recs if r.action == Action.PII_LOOKUP and r.outcome == "denied"
                and (r.reason or "").startswith(LOOKUP_LIMIT_REASON)]
        if over:
            flags.append(Flag("lookup_refused", user, f"{len(over)} 次精确查找因超过每日上限被拒绝",
                              over[0].ts, [r.seq for r in over]))
        refused = [r for r in recs if r.action == Action.AUDIT_MATCH and r.outcome == "denied"
                   and (r.reason or "").startswith(MATCH_LIMIT_REASON)]
        if refused:
            flags.append(Flag("match_refused", user, f"{len(refused)} 次按值查找因超过每日上限被拒绝",
                              refused[0].ts, [r.seq for r in refused]))
        denied = [r for r in recs if r.outcome == "denied"]
        for run in _windows(denied, cfg["AUDIT_DENIALS_MINUTES"], cfg["AUDIT_DENIALS"]):
            flags.append(Flag("denials", user, f"{cfg['AUDIT_DENIALS_MINUTES']} 分钟内被拒绝 {len(run)} 次",
                              run[0].ts, [r.seq for r in run]))
    return sorted(flags, key=lambda f: f.first_ts, reverse=True)
