"""A backup set holds the whole database and blob store: under a permissive umask (docker-compose
runs beat without the scripts' `umask 077`), into a folder the operator made 0755, nobody but
its owner may list or read any of it. The test names each path others could read."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from search_app.blobs import BlobStore
from search_app.crypto import vault_from_config
from tests.conftest import own_deployment

pytestmark = pytest.mark.integration


def test_a_backup_set_is_owner_only_whatever_the_umask(settings, services, tmp_path):
    from search_app.backup import create_backup

    dest = tmp_path / "set"
    dest.mkdir(mode=0o755)
    os.chmod(dest, 0o755)
    old = os.umask(0o022)
    try:
        (tmp_path / "dep").mkdir()
        with own_deployment(settings, tmp_path / "dep") as app, app.app_context():
            data = b"scan bytes of PRIV9-BK-0001"
            BlobStore(app.config["BLOB_DIR"], vault_from_config(app.config)).put(
                hashlib.sha256(data).hexdigest(), data, owner="PRIV9-BK-0001")
            create_backup(dest)
    finally:
        os.umask(old)
    paths = [dest, *dest.rglob("*")]
    assert any(p.is_file() and "blobs" in p.parts for p in paths), "the backup holds no blob"
    open_to_others = [f"{p.relative_to(tmp_path)} {stat.filemode(p.stat().st_mode)}" for p in paths
                      if not p.is_symlink() and p.stat().st_mode & 0o077]
    assert not open_to_others, f"backup paths readable by group/others: {open_to_others[:10]}"
