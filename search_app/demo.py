"""Demo data: users, grants and scans rendered from demo/corpus.json (no binaries in git)."""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from tests import synth as synthetic  # the generator lives with the tests, not in the product
from search_app import ROOT
from search_app.accounts.models import User
from search_app.accounts.services import create_user
from search_app.db import get_session
from search_app.grants.services import Scope, active_grants, create_grant
from search_app.ingest.models import PageSecret
from search_app.ingest.uploads import private_dir
from search_app.ingest.jobs import start_job, wait_for_job
from search_app.search._backend import admin, alias, ensure_index

CORPUS = ROOT / "demo" / "corpus.json"


class DemoRefused(RuntimeError):
    """The deployment is not a demo: the demo accounts' passwords are published in README.md."""


def render_file(spec: dict[str, Any], out_dir: Path) -> Path:
    """Write one demo file in its declared format (the formats the pipeline accepts)."""
    path = out_dir / spec["file"]
    fmt, trad = spec["format"], spec.get("traditional", False)
    if fmt == "pdf_text":
        synthetic.write_text_pdf(spec["pages"], path)
        return path
    images = [synthetic.render_page(lines, traditional=trad, noise=spec.get("noise", 0.0), seed=i)
              for i, lines in enumerate(spec["pages"])]
    writers: dict[str, Callable] = {
        "png": lambda: synthetic.write_png(images[0], path),
        "jpeg": lambda: synthetic.write_jpeg(images[0], path),
        "tiff": lambda: synthetic.write_tiff(images, path),
        "pdf_image": lambda: synthetic.write_image_pdf(images, path),
    }
    writers[fmt]()
    return path


def render_corpus(out_dir: Path, corpus: Path = CORPUS) -> Path:
    """Render every demo file and a manifest.json next to them; returns the manifest path."""
    data = json.loads(corpus.read_text(encoding="utf-8"))
    private_dir(out_dir)  # plaintext scans of (synthetic) people: owner-only while they exist
    manifest = []
    for spec in data["files"]:
        render_file(spec, out_dir)
        manifest.append({k: v for k, v in spec.items()
                         if k not in ("format", "pages", "traditional", "noise")})
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def setup_demo(*, queue: bool, echo: Callable[[str], None] = print) -> None:
    """Demo accounts (with the passwords README.md publishes, made directly, without a second
    security admin) and grants: only where the deployment says it is a demo (DEMO_MODE)."""
    if not current_app.config["DEMO_MODE"]:
        raise DemoRefused("拒绝加载演示数据：演示账号的密码是公开的，只能用于演示部署；"
                          "如确为演示环境，请设置 DEMO_MODE=true（scripts/dev.sh 会设置）")
    data = json.loads(CORPUS.read_text(encoding="utf-8"))
    session = get_session()
    users: dict[str, User] = {}
    for u in data["users"]:
        existing = session.execute(select(User).where(User.username == u["username"])).scalar_one_or_none()
        users[u["username"]] = existing or create_user(session, **u)
    session.commit()
    for g in data["grants"]:
        user = users[g["user"]]
        if not active_grants(session, user):
            second = users[g["second_approver"]] if g.get("second_approver") else None
            grant = create_grant(session, user=user, approver=users[g["approver"]],
                                 second_approver=second, purpose_category=g["purpose_category"],
                                 purpose=g["purpose"], hours=g["hours"],
                                 scope=Scope(g["categories"], g["units"], g["classification"], []))
            echo(f"grant {grant.approval_ref} for {user.username}")
    session.commit()
    ensure_index(admin(), alias(), replicas=current_app.config["OPENSEARCH_REPLICAS"])
    wanted = {f["archive_no"]: len(f["pages"]) for f in data["files"]}
    count = admin().count(index=alias(), body={"query": {"terms": {"archive_no": list(wanted)}}})
    kept = session.execute(select(func.count()).select_from(PageSecret).where(
        PageSecret.archive_no.in_(list(wanted)))).scalar_one()
    if count["count"] == kept == sum(wanted.values()):
        echo(f"index {alias()} and the database already hold the {kept} demo pages; not re-ingested")
        return
    manifest = render_corpus(ROOT / "var" / "demo", CORPUS)
    try:
        job = start_job(manifest, base_dir=manifest.parent, created_by="demo", queue=queue)
        progress = wait_for_job(job.id, echo=echo, timeout=600)
    finally:
        # The pages are in the blob store (encrypted) now, or the run failed and is re-rendered
        # next time: no plaintext scan or manifest stays on disk either way.
        shutil.rmtree(manifest.parent, ignore_errors=True)
    for name, error in progress.errors:
        echo(f"  ✗ {name}: {error}")
