"""ID numbers typed by a security admin or an operator (own and relatives', for self-exclusion):
validated, then turned into blind-index hashes at once; the digits are never stored or logged.
One place for the admin form and `flask create-user`."""
from __future__ import annotations

from flask import current_app

from indexer.pii import valid_id15, valid_id18
from search_app.accounts.services import AccountError
from search_app.crypto import vault_from_config


def id_numbers(raw: str, label: str) -> list[str]:
    """The valid ID numbers in `raw` (one per line or comma separated). A bad number is named
    by its position, not its digits: the message is also the audit reason."""
    out = []
    parts = ["".join(p.split()).upper() for p in raw.replace("，", ",").replace(",", "\n").splitlines()]
    for n, value in enumerate((p for p in parts if p), start=1):
        if not (valid_id18(value) or valid_id15(value)):
            raise AccountError(f"{label}第 {n} 个无效（应为 18 位或 15 位，校验位和出生日期须正确）")
        out.append(value)
    return out


def id_hmacs(raw: str, label: str) -> list[str]:
    """Blind-index hashes (the vault folds a 15-digit number to its 18-digit form first)."""
    vault = vault_from_config(current_app.config)
    return [vault.blind_index("id_number", v) for v in id_numbers(raw, label)]


def own_identity(raw: str, name: str) -> tuple[str | None, str | None]:
    """(ID term, (name, birth date) term) of the user's own number, or (None, None)."""
    own = id_numbers(raw, "本人身份证号")
    if len(own) > 1:
        raise AccountError("本人身份证号只能填写一个")
    if not own:
        return None, None
    vault = vault_from_config(current_app.config)
    return vault.blind_index("id_number", own[0]), vault.person_index(name, own[0])
