"""docker-compose.yml and Dockerfile agree with the app: parsed, never run (no Docker needed)."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Environment variables an app service may set that the app itself does not read.
NON_APP_ALLOWED = {"OMP_THREAD_LIMIT", "PYTHONUNBUFFERED", "FLASK_APP"}
# Settings without a default in search_app/config.py: the app refuses to start without them.
REQUIRED_SETTINGS = ("SECRET_KEY", "ARCHIVE_DATA_KEY", "ARCHIVE_BLIND_INDEX_KEY")


def _setting_names() -> set[str]:
    try:
        from search_app.config import setting_names
    except Exception:  # not on sys.path, or the package __init__ cannot be imported yet
        path = ROOT / "search_app" / "config.py"
        spec = importlib.util.spec_from_file_location("_compose_test_search_app_config", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        setting_names = module.setting_names
    return set(setting_names())


@pytest.fixture(scope="module")
def settings() -> set[str]:
    return _setting_names()


@pytest.fixture(scope="module")
def compose() -> dict:
    with open(ROOT / "docker-compose.yml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), \
        "docker-compose.yml has no services mapping"
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _env(service: dict) -> dict[str, str]:
    """A service's `environment`, list or mapping form, as name -> value (None if unset)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            name, sep, value = str(item).partition("=")
            out[name] = value if sep else None
        return out
    return {str(k): (None if v is None else str(v)) for k, v in env.items()}


def _command(service: dict) -> list[str]:
    cmd = service.get("command")
    assert cmd, "service has no command"
    return cmd.split() if isinstance(cmd, str) else [str(part) for part in cmd]


def _opensearch_services(services: dict) -> list[str]:
    return [name for name, svc in services.items()
            if str(svc.get("image", "")).startswith("opensearchproject/opensearch:")]


def _host(url: str) -> str | None:
    # stand in for compose's ${VAR...} substitution first: "${X:?msg}" would read as a query string
    return urlsplit(re.sub(r"\$\{[^}]*\}", "placeholder", url)).hostname


def test_services_exist(services):
    for name in ("redis", "postgres", *APP_SERVICES):
        assert name in services, f"service {name!r} missing from docker-compose.yml"
    assert len(_opensearch_services(services)) >= 2, "need at least 2 OpenSearch nodes"


def test_web_runs_gunicorn_app_factory(services):
    cmd = _command(services["web"])
    assert cmd[0] == "gunicorn", cmd
    assert "search_app:create_app()" in cmd, cmd


@pytest.mark.parametrize("name, subcommand", [("worker", "worker"), ("beat", "beat")])
def test_celery_commands(services, name, subcommand):
    cmd = _command(services[name])
    assert cmd[:3] == ["celery", "-A", "workers.worker"], cmd
    assert subcommand in cmd[3:], cmd


def test_migrate_is_one_shot_prerequisite(services):
    cmd = _command(services["migrate"])
    assert cmd[0] == "flask" and "db-upgrade" in cmd, cmd
    for name in ("web", "worker"):
        deps = services[name].get("depends_on") or {}
        assert isinstance(deps, dict) and "migrate" in deps, f"{name} must depend on migrate"
        assert deps["migrate"].get("condition") == "service_completed_successfully", name


def test_worker_limits_tesseract_threads(services):
    assert _env(services["worker"]).get("OMP_THREAD_LIMIT") == "1"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_env_names_are_known(services, settings, name):
    svc = services[name]
    assert "env_file" not in svc, \
        f"{name} uses env_file: its variables cannot be checked against setting_names()"
    allowed = settings | NON_APP_ALLOWED
    unknown = sorted(set(_env(svc)) - allowed)
    assert not unknown, (f"{name} sets environment variables the app does not read: "
                         f"{', '.join(unknown)} (not in setting_names() or {sorted(NON_APP_ALLOWED)})")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_required_settings_come_from_the_deployer(services, settings, name):
    env = _env(services[name])
    for var in REQUIRED_SETTINGS:
        assert var in settings, f"{var} is no longer in setting_names()"
        assert var in env, f"{name} does not set required setting {var}"
        # a required ${VAR:?...} substitution: the secret is never written into the file
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]*\}}", env[var] or ""), \
            f"{name}: {var} must be ${{{var}:?...}}, got {env[var]!r}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_urls_point_at_compose_services(services, name):
    env = _env(services[name])
    db = env.get("DATABASE_URL") or ""
    assert db.startswith("postgresql"), f"{name}: DATABASE_URL {db!r} is not PostgreSQL"
    assert _host(db) == "postgres", f"{name}: DATABASE_URL host is not the postgres service"
    # the password is substituted by compose, never written here
    assert "${POSTGRES_PASSWORD" in db, f"{name}: DATABASE_URL must use ${{POSTGRES_PASSWORD}}"

    nodes = set(_opensearch_services(services))
    urls = [u.strip() for u in (env.get("OPENSEARCH_URL") or "").split(",") if u.strip()]
    assert urls, f"{name}: OPENSEARCH_URL not set"
    for url in urls:
        assert _host(url) in nodes, f"{name}: OPENSEARCH_URL host of {url!r} not in {sorted(nodes)}"

    redis_url = env.get("REDIS_URL") or ""
    assert redis_url.startswith("redis://"), f"{name}: REDIS_URL {redis_url!r}"
    assert _host(redis_url) == "redis", f"{name}: REDIS_URL host is not the redis service"


def test_blob_dir_is_a_volume_shared_by_web_and_worker(services, compose):
    mounts = {}
    for name in ("web", "worker"):
        blob_dir = _env(services[name]).get("BLOB_DIR")
        assert blob_dir and blob_dir.startswith("/"), f"{name}: BLOB_DIR must be absolute"
        for vol in services[name].get("volumes") or []:
            source, _, target = str(vol).partition(":")
            if target.split(":")[0] == blob_dir:
                mounts[name] = source
        assert name in mounts, f"{name}: no volume mounted at BLOB_DIR {blob_dir}"
    assert mounts["web"] == mounts["worker"], mounts
    assert mounts["web"] in (compose.get("volumes") or {}), "BLOB_DIR volume is not a named volume"


def test_opensearch_nodes_discover_each_other(services):
    nodes = _opensearch_services(services)
    for name in nodes:
        env = _env(services[name])
        seeds = {h.strip().split(":")[0] for h in (env.get("discovery.seed_hosts") or "").split(",")}
        for other in nodes:
            if other != name:
                assert other in seeds, f"{name}: discovery.seed_hosts does not list {other}"
        managers = {h.strip() for h in (env.get("cluster.initial_cluster_manager_nodes") or "").split(",")}
        assert managers == set(nodes), f"{name}: cluster.initial_cluster_manager_nodes {managers}"
        assert env.get("node.name") == name
    assert len({_env(services[n]).get("cluster.name") for n in nodes}) == 1, "cluster.name differs"


def test_dockerfile_installs_chinese_ocr_and_drops_root(dockerfile):
    for package in ("tesseract-ocr-chi-sim", "tesseract-ocr-chi-tra"):
        assert re.search(rf"\b{re.escape(package)}\b", dockerfile), f"Dockerfile does not install {package}"
    users = re.findall(r"^\s*USER\s+(\S+)", dockerfile, flags=re.MULTILINE)
    assert users, "Dockerfile has no USER line: the app would run as root"
    assert users[-1] not in {"root", "0", "0:0"}, f"Dockerfile's final USER is {users[-1]}"
