"""The archive domain's vocabulary, in one place: 门类, 密级, the personal-data field kinds and
their labels, and the page document id. The pipeline, the app, the forms and the filters all
import these names; nothing else spells them out. (Masking rules per kind are policy data in
indexer/data/mask_policy.json, applied by indexer.redact.)
"""
from __future__ import annotations

# 门类 (archive categories) this office holds.
CATEGORIES: tuple[str, ...] = ("户籍档案", "干部人事档案", "电子卷宗")
# 密级 and their order: a grant's ceiling is compared numerically.
CLASSIFICATION_LEVELS: dict[str, int] = {"公开": 0, "内部": 1, "秘密": 2, "机密": 3}
CLASSIFICATIONS: tuple[str, ...] = tuple(CLASSIFICATION_LEVELS)
LEVEL_NAMES: dict[int, str] = {v: k for k, v in CLASSIFICATION_LEVELS.items()}
# Grants whose ceiling reaches this level (秘密) need a second approver.
SECOND_APPROVAL_LEVEL = CLASSIFICATION_LEVELS["秘密"]
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


PAGE_SEP = "#p"  # between the 档号 and the page number in a document id


def archive_of(doc_id: str) -> str:
    """The 档号 of a page's document id (the inverse of `doc_id` for its first part)."""
    return doc_id.rpartition(PAGE_SEP)[0] or doc_id


def doc_id(archive_no: str, page_no: int) -> str:
    """The index document (and PageSecret) id of one page: deterministic, so re-ingest
    overwrites instead of duplicating."""
    return f"{archive_no}#p{page_no:04d}"
