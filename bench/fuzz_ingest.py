"""Fuzz the ingest path with malformed inputs (bench/fuzz_corpus.py), through the real pipeline.

    TEST_REDIS_DB=4 nice .venv/bin/python bench/fuzz_ingest.py [--files 900] [--batch 100]
        [--database-url postgresql+psycopg://…] [--keep]

What runs is the product's synchronous ingest (`flask ingest` without --queue: the file phase,
then the page loop in a pool of WORKER_CONCURRENCY forked processes, the same loop the Celery
worker runs), on real Tesseract, the secured OpenSearch (a fresh `test-pages-<hex>` alias) and
a fresh database. First a baseline of good files is ingested and fingerprinted (index
documents, encrypted page texts, blobs); then every file case goes in, in batches of --batch
files under one JSON manifest each, and every manifest case alone; afterwards the baseline is
checked again. Printed: inputs, outcomes (accepted / clear error), clear errors by reason,
worker crashes (an exception out of the ingest, a page process that died), unclear errors
(an internal error, a message with no Chinese), and whether the baseline is intact.
Exit status 1 if any crash or unclear error, or anything of the baseline changed.
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

from fuzz_corpus import FileCase, ManifestCase, row, seeds, text_pdf  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
DEADLINE = [float("inf")]  # monotonic time after which no new batch or manifest starts
# What only an unexpected exception produces (ingest/jobs.py, pagework.py, pool.py).
UNCLEAR_MARKS = ("内部错误", "上次尝试失败", "Traceback", "处理进程反复意外退出")


def is_clear(message: str) -> bool:
    """A refusal a person can act on: it says why, in Chinese, and is not an internal error."""
    return bool(message) and bool(CJK.search(message)) and not any(
        m in message for m in UNCLEAR_MARKS)


def reason_of(message: str) -> str:
    """The kind of refusal: the message up to its first detail, numbers and quotes folded."""
    head = re.split(r"[：:（(]", message.split("；")[-1] if "页失败" in message else message)[0]
    if "页失败" in message:
        head = "页失败：" + re.split(r"[：:（(]", message.split("：", 1)[-1])[0]
    head = re.sub(r"“[^”]*”", "“…”", head)
    head = re.sub(r"\d+", "N", head)
    return re.sub(r"\s+", " ", head).strip()[:60]


@dataclass
class Report:
    inputs: int = 0
    accepted: int = 0
    clear: int = 0
    reasons: collections.Counter = field(default_factory=collections.Counter)
    crashes: list[str] = field(default_factory=list)
    unclear: list[str] = field(default_factory=list)
    by_family: dict[str, collections.Counter] = field(default_factory=dict)
    baseline_files: int = 0
    baseline_intact: int = 0
    baseline_damage: list[str] = field(default_factory=list)
    seconds: float = 0.0
    transient: int = 0
    stopped: bool = False  # --minutes ran out before every case was run

    def note(self, family: str, outcome: str) -> None:
        self.by_family.setdefault(family, collections.Counter())[outcome] += 1

    def message(self, family: str, where: str, message: str) -> None:
        if is_clear(message):
            self.reasons[reason_of(message)] += 1
        else:
            self.unclear.append(f"{family} {where}: {message[:300]}")

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.unclear and \
            self.baseline_intact == self.baseline_files and not self.baseline_damage


# --- running cases ----------------------------------------------------------------------------

def _start(manifest: Path, folder: Path):
    from search_app.ingest.jobs import start_job, wait_for_job
    job = start_job(manifest, base_dir=folder, created_by="fuzz", queue=False)
    wait_for_job(job.id, echo=lambda _l: None, timeout=600, poll=0.2)
    return job.id


def _file_rows(job_id: int) -> list[Any]:
    from sqlalchemy import select

    from search_app.db import get_session
    from search_app.ingest.models import IngestFile
    session = get_session()
    session.expire_all()
    return list(session.execute(select(IngestFile).where(IngestFile.job_id == job_id)
                                .order_by(IngestFile.id)).scalars())


def _row_outcome(report: Report, family: str, f: Any) -> None:
    """One ingest_files row after its job: accepted, or a clear error; pages retried after a
    process died are crashes."""
    for p in f.pages:
        if p.attempts > 1 or "处理进程反复意外退出" in (p.error or ""):
            report.crashes.append(f"{family} {Path(f.path).name} 第 {p.page_no} 页：处理进程退出后"
                                  f"重试 {p.attempts} 次 {p.error[:200]}")
    if f.state == "done":
        report.accepted += 1
        report.note(family, "accepted")
    elif f.state == "failed":
        report.clear += is_clear(f.error)
        report.message(family, Path(f.path).name, f.error)
        report.note(family, "error")
    else:
        report.crashes.append(f"{family} {Path(f.path).name}: 任务结束后仍为 {f.state}")


TRANSIENT = "上次尝试失败"  # a possibly transient error (engine timeout, database busy): retried


def _transient(f: Any) -> bool:
    return f.state == "failed" and TRANSIENT in (f.error or "")


def _settle(report: Report, job_id: int, folder: Path, rows: list[dict], *, retries: int = 2
            ) -> list[Any]:
    """The job's file rows, with those that failed on an overloaded service (the shared
    machine's engine timing out, SQLite busy) ingested again, as an operator would: the CLI
    path has no retry of its own. Counted apart, so they are never taken for a fuzz finding."""
    files = _file_rows(job_id)
    for attempt in range(1, retries + 1):
        again = {Path(f.path).name for f in files if _transient(f)}
        if not again:
            break
        report.transient += len(again)
        retry = folder / f"retry{attempt}.json"
        retry.write_text(json.dumps([r for r in rows if r["文件"] in again], ensure_ascii=False))
        redo = {Path(f.path).name: f for f in _file_rows(_start(retry, folder))}
        files = [redo.get(Path(f.path).name, f) for f in files]
    return files


def run_file_cases(cases: list[FileCase], work: Path, *, prefix: str, baseline: dict[str, dict],
                   report: Report, batch: int = 100) -> None:
    """Every file case with a valid manifest row, `batch` files per job; a 'baseline' case takes
    the row of a file already ingested (same metadata), so only its bytes are bad."""
    base_rows = list(baseline.values())
    for start in range(0, len(cases), batch):
        if time.monotonic() > DEADLINE[0]:
            report.stopped = True
            break
        chunk = cases[start:start + batch]
        folder = work / f"files-{start:05d}"
        folder.mkdir(parents=True)
        rows, families = [], {}
        for i, case in enumerate(chunk, start):
            name = f"{i:05d}-{case.name}"
            (folder / name).write_bytes(case.data)
            if case.target == "baseline":
                r = dict(base_rows[i % len(base_rows)], 文件=name)
            else:
                r = row(f"{prefix}-F{i:05d}", name)
            rows.append(r)
            families[name] = case.family
        (folder / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
        report.inputs += len(chunk)
        try:
            files = _settle(report, _start(folder / "manifest.json", folder), folder, rows)
        except Exception as exc:  # the whole batch died: every file in it is a crash
            report.crashes.append(f"批次 {start}: {type(exc).__name__}: {exc}"[:400])
            continue
        for f in files:
            _row_outcome(report, families.get(Path(f.path).name, "?"), f)


def run_manifest_cases(cases: list[ManifestCase], work: Path, *, report: Report) -> None:
    from indexer.manifest import ManifestError
    for i, case in enumerate(cases):
        if time.monotonic() > DEADLINE[0]:
            report.stopped = True
            break
        folder = work / f"manifest-{i:04d}"
        folder.mkdir(parents=True)
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        (folder / case.name).write_bytes(case.data)
        report.inputs += 1
        try:
            job_id = _start(folder / case.name, folder)
        except ManifestError as exc:
            report.clear += is_clear(str(exc))
            report.message(case.family, "清单", str(exc))
            report.note(case.family, "refused")
            continue
        except Exception as exc:
            report.crashes.append(f"{case.family}: {type(exc).__name__}: {exc}"[:400])
            continue
        rows = _file_rows(job_id)
        if any(_transient(f) for f in rows):  # retry the whole (small) manifest
            report.transient += 1
            rows = _file_rows(_start(folder / case.name, folder))
        if not rows:  # a job of nothing that says nothing: not a clear refusal
            report.unclear.append(f"{case.family}: 清单被接受，但没有任何条目，也没有任何说明")
            report.note(case.family, "no rows")
        for f in rows:
            _row_outcome(report, case.family, f)


# --- the baseline: what must survive ----------------------------------------------------------

def ingest_baseline(work: Path, prefix: str) -> dict[str, dict]:
    """A few good files (text-layer PDF, scanned PDF, PNG, multi-frame TIFF), ingested."""
    folder = work / "baseline"
    folder.mkdir(parents=True)
    files = {"a.pdf": text_pdf(2), "b.pdf": seeds()["scan.pdf"], "c.png": seeds()["png"],
             "d.tif": seeds()["multi.tif"]}
    rows = {}
    for i, (name, data) in enumerate(files.items(), 1):
        (folder / name).write_bytes(data)
        rows[f"{prefix}-B{i:03d}"] = row(f"{prefix}-B{i:03d}", name)
    (folder / "manifest.json").write_text(json.dumps(list(rows.values()), ensure_ascii=False))
    job_id = _start(folder / "manifest.json", folder)
    bad = [(f.path, f.error) for f in _file_rows(job_id) if f.state != "done"]
    if bad:
        raise SystemExit(f"the baseline did not ingest: {bad}")
    return rows


def fingerprint(archive_nos: list[str]) -> dict[str, str]:
    """doc id -> digest of the index document, the decrypted page text and the stored blobs."""
    from opensearchpy import helpers
    from sqlalchemy import select

    from search_app.crypto import vault_from_config
    from search_app.db import get_session
    from search_app.ingest.models import PageSecret
    from search_app.ingest.service import blob_store
    from search_app.search._backend import alias, writer
    from flask import current_app

    writer().indices.refresh(index=alias())
    docs = {h["_id"]: hashlib.sha256(json.dumps(h["_source"], sort_keys=True,
                                                ensure_ascii=False).encode()).hexdigest()
            for h in helpers.scan(writer(), index=alias(), query={"query": {
                "terms": {"archive_no": archive_nos}}})}
    session = get_session()
    session.expire_all()
    vault, blobs = vault_from_config(current_app.config), blob_store()
    out = {}
    for s in session.execute(select(PageSecret).where(PageSecret.archive_no.in_(archive_nos))
                             .order_by(PageSecret.doc_id)).scalars():
        text = vault.decrypt(s.ciphertext, aad=s.doc_id.encode())
        digest = hashlib.sha256(text + blobs.get(s.source_sha256, owner=s.archive_no))
        if s.image_sha256:
            digest.update(blobs.get_page_image(s.doc_id, s.image_sha256))
        out[s.doc_id] = f"{docs.get(s.doc_id, 'NOT IN INDEX')}:{digest.hexdigest()}"
    for doc_id in docs.keys() - out.keys():
        out[doc_id] = "index only"
    return out


def check_baseline(report: Report, before: dict[str, str], archive_nos: list[str]) -> None:
    after = fingerprint(archive_nos)
    report.baseline_files = len(archive_nos)
    damaged = {d.split("#")[0] for d in before if after.get(d) != before[d]}
    damaged |= {d.split("#")[0] for d in after.keys() - before.keys()}
    report.baseline_damage = sorted(f"{d}: {'lost' if d not in after else 'changed'}"
                                    for d in before if after.get(d) != before[d])
    report.baseline_intact = len([a for a in archive_nos if a not in damaged])


# --- printing ---------------------------------------------------------------------------------

def print_report(report: Report, echo=print) -> None:
    if report.stopped:
        echo("\nSTOPPED at the time limit (--minutes): the counts below are of the inputs run")
    echo(f"\ninputs: {report.inputs}   accepted (ingested): {report.accepted}   "
         f"clear errors: {report.clear}   in {report.seconds:.0f} s")
    echo(f"worker crashes: {len(report.crashes)}   unclear errors: {len(report.unclear)}   "
         f"(retried after a transient service error: {report.transient})")
    echo(f"baseline files intact: {report.baseline_intact}/{report.baseline_files}")
    echo("\n| clear error (reason) | count |\n|---|---|")
    for reason, n in report.reasons.most_common():
        echo(f"| {reason} | {n} |")
    echo("\n| input family | inputs | accepted | clear error |\n|---|---|---|---|")
    groups: dict[str, collections.Counter] = {}
    for fam, c in report.by_family.items():
        key = re.sub(r"-(pdf|scan\.pdf|png|jpg|tif|multi\.tif|g4\.tif)$", "", fam) \
            if fam.startswith(("truncated", "bitflip", "splice")) else fam.split("-")[0]
        key = fam if fam.startswith(("truncated", "bitflip", "splice")) else key
        groups.setdefault(key, collections.Counter()).update(c)
    for key in sorted(groups):
        c = groups[key]
        echo(f"| {key} | {sum(c.values())} | {c['accepted']} | {c['error'] + c['refused']} |")
    for what, items in (("CRASH", report.crashes), ("UNCLEAR", report.unclear),
                        ("BASELINE", report.baseline_damage)):
        for item in items[:40]:
            echo(f"{what}: {item}")


# --- stand-alone ------------------------------------------------------------------------------

def settings(tmp: Path, database_url: str | None) -> dict[str, Any]:
    from search_app.config import read_env_file, setting_names
    local = {**read_env_file(ROOT / "var" / "local.env"),
             **{k: v for k, v in os.environ.items() if k in setting_names()}}
    engine = {k: v for k, v in local.items() if k in ("OPENSEARCH_URL", "OPENSEARCH_CA_CERTS")
              or re.fullmatch(r"OPENSEARCH_\w+_(USER|PASSWORD)", k)}
    key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()  # noqa: E731
    redis = re.sub(r"/\d*$", "", local.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return {"SECRET_KEY": key(), "ARCHIVE_DATA_KEY": key(), "ARCHIVE_BLIND_INDEX_KEY": key(),
            "DATABASE_URL": database_url or f"sqlite:///{tmp}/fuzz.sqlite3", **engine,
            "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
            "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
            "REDIS_URL": f"{redis}/{int(os.environ.get('TEST_REDIS_DB', '15'))}",
            "BLOB_DIR": str(tmp / "blobs"), "INGEST_UPLOAD_DIR": str(tmp / "uploads"),
            # the run's own per-file keys: the default var/keys outlives the run, and a later
            # run's fresh master key cannot unwrap the keys it left for the same 档号
            "KEY_STORE_DIR": str(tmp / "keys"),
            "AUDIT_CHECKPOINT_FILE": str(tmp / "cp.log")}


def run_all(files: list[FileCase], manifests: list[ManifestCase], work: Path, *, prefix: str,
            batch: int, manifests_first: bool = False) -> Report:
    """In an app context: baseline, fuzz, baseline check."""
    report = Report()
    started = time.monotonic()
    baseline = ingest_baseline(work, prefix)
    before = fingerprint(list(baseline))
    steps = [lambda: run_file_cases(files, work, prefix=prefix, baseline=baseline,
                                    report=report, batch=batch),
             lambda: run_manifest_cases(manifests, work, report=report)]
    for step in (steps[::-1] if manifests_first else steps):
        step()
    check_baseline(report, before, list(baseline))
    report.seconds = time.monotonic() - started
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=900, help="file cases (crafted + mutated)")
    ap.add_argument("--batch", type=int, default=100, help="files per ingest job")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--keep", action="store_true", help="keep the index and work folder")
    ap.add_argument("--minutes", type=float, default=0,
                    help="start no new batch after this long (0: run every case)")
    ap.add_argument("--manifests-first", action="store_true",
                    help="run the manifest cases before the file cases")
    args = ap.parse_args()

    from fuzz_corpus import file_cases, manifest_cases
    from search_app import create_app
    from search_app.migrations import upgrade
    from search_app.search._backend import drop_alias_and_indices, ensure_index, make_client

    tmp = Path(tempfile.mkdtemp(prefix="fuzz-"))
    cfg = settings(tmp, args.database_url)
    app = create_app(cfg)
    upgrade(cfg["DATABASE_URL"])
    admin = make_client(app.config, "admin")
    ensure_index(admin, cfg["OPENSEARCH_INDEX"])
    prefix = f"FZ{uuid.uuid4().hex[:4].upper()}"
    t0 = time.monotonic()
    files = file_cases(args.files, args.seed)
    manifests = manifest_cases(prefix, args.seed)
    print(f"generated {len(files)} file cases and {len(manifests)} manifest cases in "
          f"{time.monotonic() - t0:.1f} s; work folder {tmp}; load {os.getloadavg()[0]:.1f}")
    try:
        with app.app_context():
            if args.minutes:
                DEADLINE[0] = time.monotonic() + args.minutes * 60
            report = run_all(files, manifests, tmp / "work", prefix=prefix, batch=args.batch,
                             manifests_first=args.manifests_first)
    finally:
        if not args.keep:
            drop_alias_and_indices(admin, cfg["OPENSEARCH_INDEX"])
            admin.indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
            app.extensions["db_engine"].dispose()
            shutil.rmtree(tmp, ignore_errors=True)  # the whole corpus run leaves ~2 GB here
    print_report(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
