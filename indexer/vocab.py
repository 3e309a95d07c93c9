"""The archive domain's vocabulary, in one place: 门类, 密级, the personal-data field kinds and
their labels, and the page document id. The pipeline, the app, the forms and the filters all
import these names; nothing else spells them out. (Masking rules per kind are policy data in
indexer/data/mask_policy.json, applied by indexer.redact.)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# 门类 (archive categories) this office holds, with their codes (DA/T 13 门类代码). These and the
# other seed values below are what migration 0011 writes into the catalogue tables; from then on
# the system admin manages the lists in the database (search_app.catalogue) and the app validates
# against the tables. The pure pipeline stages take a `Vocabulary` (default: these seeds).
CATEGORY_CODES: dict[str, str] = {"户籍档案": "HJ", "干部人事档案": "GB", "电子卷宗": "JZ"}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_CODES)
# 密级 and their order: a grant's ceiling is compared numerically.
CLASSIFICATION_LEVELS: dict[str, int] = {"公开": 0, "内部": 1, "秘密": 2, "机密": 3}
CLASSIFICATIONS: tuple[str, ...] = tuple(CLASSIFICATION_LEVELS)
LEVEL_NAMES: dict[int, str] = {v: k for k, v in CLASSIFICATION_LEVELS.items()}
# Grants whose ceiling reaches this level (秘密) need a second approver.
SECOND_APPROVAL_LEVEL = CLASSIFICATION_LEVELS["秘密"]
# 保管期限 (retention periods, DA/T 13-2022 §6.4): code → name, and the years each keeps (None: 永久).
RETENTIONS: dict[str, str] = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
RETENTION_YEARS: dict[str, int | None] = {"Y": None, "D30": 30, "D10": 10}
# 查阅目的类别 (purpose categories) with their limits: the unmaskable field kinds a request gets
# by default and may ask for at most (None: any kind), and the longest duration in hours (None:
# the GRANT_MAX_HOURS setting). 外单位户籍核查: another agency checking a household register may
# see 姓名, 身份号码 and 住址 only (性别, 民族, 出生日期 are never masked); 干部档案查阅: a week.
PURPOSE_SEEDS: dict[str, dict] = {
    "考察": {}, "任免": {}, "政审": {}, "办案": {}, "户籍核查": {},
    "外单位户籍核查": {"default_fields": ["name", "id_number", "address"],
                      "max_fields": ["name", "id_number", "address"]},
    "干部档案查阅": {"max_hours": 7 * 24},
}
# Personal-data kinds the pipeline detects, with their labels: what a grant may unmask.
# "number" is the fail-safe: any other long digit run that is not positively a date, 档号 etc.
PII_KINDS: dict[str, str] = {"id_number": "身份证号", "phone": "手机号", "landline": "固定电话",
                             "bank_card": "银行卡号", "name": "姓名", "address": "住址",
                             "number": "其他号码"}
# Kinds an exact look-up can search by (addresses are too free-form to match exactly; the
# fail-safe's numbers are of no known kind).
LOOKUP_KINDS: dict[str, str] = {k: v for k, v in PII_KINDS.items() if k not in ("address", "number")}
# Of two overlapping numeric candidates of equal length, the earlier kind here wins (a valid
# ID number is more specific than a Luhn-valid card number, and so on).
OVERLAP_PRECEDENCE: tuple[str, ...] = ("id_number", "bank_card", "phone", "landline")
# The telephone kinds (a country code or its bracket goes with either).
PHONE_KINDS: frozenset[str] = frozenset({"phone", "landline"})


@dataclass(frozen=True)
class Vocabulary:
    """The closed lists a manifest row is checked against. The app builds one from the catalogue
    tables (search_app.catalogue.vocabulary); a pure stage without one uses the seeds."""

    categories: tuple[str, ...] = CATEGORIES
    levels: dict[str, int] = field(default_factory=lambda: dict(CLASSIFICATION_LEVELS))
    category_codes: dict[str, str] = field(default_factory=lambda: dict(CATEGORY_CODES))
    fonds: tuple[str, ...] = ()  # 全宗号
    retentions: dict[str, str] = field(default_factory=lambda: dict(RETENTIONS))
    rules: tuple[Any, ...] = ()  # indexer.archive_no.Rule: the 档号 pattern per 全宗/门类

    @property
    def classifications(self) -> tuple[str, ...]:
        return tuple(self.levels)


SEED_VOCABULARY = Vocabulary()


PAGE_SEP = "#p"  # between the 档号 and the page number in a document id


def archive_of(doc_id: str) -> str:
    """The 档号 of a page's document id (the inverse of `doc_id` for its first part)."""
    return doc_id.rpartition(PAGE_SEP)[0] or doc_id


def doc_id(archive_no: str, page_no: int) -> str:
    """The index document (and PageSecret) id of one page: deterministic, so re-ingest
    overwrites instead of duplicating."""
    return f"{archive_no}#p{page_no:04d}"
