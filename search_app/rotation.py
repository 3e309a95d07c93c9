"""Data-key rotation: re-encrypt every ciphertext that is not under the current key.

Why a command and not lazy re-encryption on read: a retired key can only be destroyed once
nothing needs it, and only a full pass can prove that. The pass is resumable and idempotent:
each batch commits, and a ciphertext already under the current key id is left alone, so an
interrupted run is simply started again and a second run re-encrypts nothing.

Before it changes anything the pass surveys which key ids are in use (headers only, nothing is
decrypted) and refuses if one of them is not configured: a half-rotated store whose remaining
rows need a key nobody has is worse than an untouched one. A ciphertext that fails
authentication (tampered, or written with another aad) is reported by id and left as it is;
the run goes on with the rest and ends with a non-zero status.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from search_app.blobs import PAGES_DIR, page_image_aad_of, write_owner_only
from search_app.crypto import DecryptError, Vault, key_id_of
from search_app.ingest.models import IngestFile, PageSecret, PageVersion
from search_app.ingest.service import meta_aad
from search_app.keystore import KeyStore

FILE_KEY_PREFIX = "f-"  # search_app.keystore: a file's own data key, re-wrapped, never re-encrypted
HEADER_BYTES = 40  # b"v1:" + key id (<= 32) + b":" is all the survey needs to read
UNREADABLE = "<无法识别>"


@dataclass(frozen=True)
class _Table:
    """One kind of encrypted row: where its ciphertext lives and what its aad is."""

    kind: str
    model: type
    pk: Any
    column: Any
    aad: Callable[[Any], bytes]  # called with the value of `aad_column` (default: the pk)
    extra: Callable[[str], dict] = lambda key_id: {}
    aad_column: Any = None


TABLES = (
    _Table("page_secrets", PageSecret, PageSecret.doc_id, PageSecret.ciphertext,
           lambda pk: str(pk).encode(), lambda key_id: {"key_id": key_id}),
    _Table("ingest_files", IngestFile, IngestFile.id, IngestFile.meta_ciphertext, meta_aad),
    # Earlier versions of a page keep the page's aad (its doc id), not their own row id.
    _Table("page_versions", PageVersion, PageVersion.id, PageVersion.ciphertext,
           lambda did: str(did).encode(), lambda key_id: {"key_id": key_id},
           aad_column=PageVersion.doc_id),
)
KINDS = tuple(t.kind for t in TABLES) + ("blobs", "page_images")


@dataclass
class KindReport:
    kind: str
    rotated: int = 0
    current: int = 0
    failed: list[str] = field(default_factory=list)


class MissingKeysError(RuntimeError):
    """Ciphertexts under key ids this configuration does not have; nothing was changed."""

    def __init__(self, missing: dict[str, Counter[str]]) -> None:
        self.missing = missing
        parts = []
        for key_id, kinds in sorted(missing.items()):
            counts = "、".join(f"{kind} {n} {'个文件' if kind in FILE_KINDS else '行'}"
                              for kind, n in sorted(kinds.items()))
            parts.append(f"密钥 {key_id!r} 未配置（{counts}）")
        super().__init__("；".join(parts) + "。请把这些旧密钥加入 ARCHIVE_DATA_OLD_KEYS"
                         "（格式 id:base64，多个用逗号分隔）后重新运行；未做任何修改。")


def _header_id(header: bytes) -> str:
    try:
        return key_id_of(bytes(header))
    except DecryptError:
        return UNREADABLE


def _blob_files(blob_dir: Path) -> Iterator[Path]:
    """Original scans: <sha[:2]>/<sha>.bin, aad = the sha (the file's stem)."""
    if blob_dir.is_dir():
        yield from sorted(blob_dir.glob("*/*.bin"))


def _page_image_files(blob_dir: Path) -> Iterator[Path]:
    """Page images: pages/<sha256(doc id)>/<sha>.bin, aad from the path (blobs.py)."""
    if (blob_dir / PAGES_DIR).is_dir():
        yield from sorted((blob_dir / PAGES_DIR).glob("*/*.bin"))


# blob kind -> (its files, the aad of one file)
BLOB_KINDS: dict[str, tuple[Callable[[Path], Iterator[Path]], Callable[[Path], bytes]]] = {
    "blobs": (_blob_files, lambda path: path.stem.encode()),
    "page_images": (_page_image_files, page_image_aad_of),
}


FILE_KINDS = (*BLOB_KINDS, "file_keys")


def survey(session: Session, blob_dir: Path, keystore: KeyStore | None = None
           ) -> dict[str, Counter[str]]:
    """kind -> Counter(key id -> number of ciphertexts), from the headers only; "file_keys"
    counts the master key ids that wrap the files' data keys."""
    out: dict[str, Counter[str]] = {}
    for t in TABLES:
        stmt = (select(func.substr(t.column, 1, HEADER_BYTES), func.count())
                .where(func.length(t.column) > 0).group_by(func.substr(t.column, 1, HEADER_BYTES)))
        counts: Counter[str] = Counter()
        for header, n in session.execute(stmt):
            counts[_header_id(header)] += n
        out[t.kind] = counts
    for kind, (files, _aad) in BLOB_KINDS.items():
        blobs: Counter[str] = Counter()
        for path in files(blob_dir):
            with path.open("rb") as fh:
                blobs[_header_id(fh.read(HEADER_BYTES))] += 1
        out[kind] = blobs
    if keystore is not None:
        wraps: Counter[str] = Counter()
        for path in keystore.key_files():
            with path.open("rb") as fh:
                wraps[_header_id(fh.read(HEADER_BYTES))] += 1
        out["file_keys"] = wraps
    return out


def _current(key_id: str, vault: Vault) -> bool:
    """Under the current master key, or under a file's data key (whose wrapping is what a
    master-key rotation changes: rotate_file_keys)."""
    return key_id == vault.current_key_id or key_id.startswith(FILE_KEY_PREFIX)


def check_keys(usage: dict[str, Counter[str]], vault: Vault) -> None:
    missing: dict[str, Counter[str]] = {}
    for kind, counts in usage.items():
        for key_id, n in counts.items():
            if key_id.startswith(FILE_KEY_PREFIX):
                continue
            if key_id != UNREADABLE and key_id not in vault.key_ids:
                missing.setdefault(key_id, Counter())[kind] += n
    if missing:
        raise MissingKeysError(missing)


def _reencrypt(vault: Vault, blob: bytes, aad: bytes) -> bytes:
    return vault.encrypt(vault.decrypt(blob, aad=aad), aad=aad)


def rotate_table(session: Session, t: _Table, vault: Vault, *, batch: int,
                 echo: Callable[[str], None]) -> KindReport:
    report = KindReport(t.kind)
    last: Any = None
    seen = 0
    while True:
        stmt = select(t.pk, func.substr(t.column, 1, HEADER_BYTES)).where(func.length(t.column) > 0)
        if last is not None:
            stmt = stmt.where(t.pk > last)
        rows = session.execute(stmt.order_by(t.pk).limit(batch)).all()
        if not rows:
            return report
        last, seen = rows[-1][0], seen + len(rows)
        stale = [pk for pk, header in rows if not _current(_header_id(header), vault)]
        report.current += len(rows) - len(stale)
        aad_col = t.pk if t.aad_column is None else t.aad_column
        for pk, old, aad_value in session.execute(
                select(t.pk, t.column, aad_col).where(t.pk.in_(stale))).all():
            try:
                new = _reencrypt(vault, old, t.aad(aad_value))
            except DecryptError as exc:
                report.failed.append(f"{pk}: {exc}")
                echo(f"  ✗ {t.kind} {pk}: {exc}")
                continue
            # Only if nobody rewrote the row meanwhile (a re-ingest writes under the current key);
            # updated_at is kept: rotation is not a change of content.
            keep = ({"updated_at": t.model.updated_at} if hasattr(t.model, "updated_at") else {})
            done = session.execute(
                update(t.model).where(t.pk == pk, t.column == old)
                .values({t.column.key: new, **keep, **t.extra(vault.current_key_id)})).rowcount
            report.rotated += done
            report.current += 1 - done
        session.commit()
        echo(f"{t.kind}: {seen} checked, {report.rotated} re-encrypted, "
             f"{len(report.failed)} failed")


def rotate_blobs(blob_dir: Path, vault: Vault, *, batch: int, echo: Callable[[str], None],
                 kind: str = "blobs") -> KindReport:
    report = KindReport(kind)
    files, aad_of = BLOB_KINDS[kind]
    seen = 0
    for path in files(blob_dir):
        seen += 1
        data = path.read_bytes()
        if _current(_header_id(data[:HEADER_BYTES]), vault):
            report.current += 1
        else:
            try:
                new = _reencrypt(vault, data, aad_of(path))
            except DecryptError as exc:
                report.failed.append(f"{path.name}: {exc}")
                echo(f"  ✗ {kind} {path.name}: {exc}")
            else:
                tmp = path.with_name(path.name + ".rotating")
                write_owner_only(tmp, new)
                tmp.replace(path)  # atomic: a crash leaves the old or the new blob, never half
                report.rotated += 1
        if seen % batch == 0:
            echo(f"{kind}: {seen} checked, {report.rotated} re-encrypted, {len(report.failed)} failed")
    return report


def rotate_all(session: Session, vault: Vault, blob_dir: Path, *, batch: int = 200,
               echo: Callable[[str], None] = print) -> list[KindReport]:
    """Survey, refuse on a missing key (MissingKeysError), then re-encrypt kind by kind."""
    usage = survey(session, blob_dir, vault.keystore)
    check_keys(usage, vault)
    for kind in KINDS:
        stale = sum(n for k, n in usage[kind].items() if not _current(k, vault))
        echo(f"{kind}: {sum(usage[kind].values())} ciphertexts, {stale} not under "
             f"{vault.current_key_id!r}")
    reports = [rotate_table(session, t, vault, batch=batch, echo=echo) for t in TABLES]
    reports.extend(rotate_blobs(blob_dir, vault, batch=batch, echo=echo, kind=kind)
                   for kind in BLOB_KINDS)
    if vault.keystore is not None:
        report = KindReport("file_keys")
        report.rotated, report.current = vault.keystore.rewrap(vault)
        echo(f"file_keys: {report.rotated} re-wrapped under {vault.current_key_id!r}, "
             f"{report.current} already")
        reports.append(report)
    return reports
