"""docker-compose.yml and Dockerfile agree with the app: parsed, never run (no Docker needed).

Also the deployment's share of "the engine is never open" (DESIGN.md rule 9): the security plugin
on both nodes, certificates from a one-shot setup service, one engine password per service and
no more, Redis with a password, and web reachable only through the proxy."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
APP_SERVICES = ("migrate", "index", "web", "worker", "beat", "ops-worker")
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


@pytest.mark.parametrize("name, subcommand", [("worker", "worker"), ("beat", "beat"),
                                              ("ops-worker", "worker")])
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


# --- the engine is never open -----------------------------------------------------------------

ENGINE_PASSWORDS = {"migrate": set(), "beat": set(), "index": {"OPENSEARCH_ADMIN_PASSWORD"},
                    "web": {"OPENSEARCH_WEB_PASSWORD"}, "worker": {"OPENSEARCH_WORKER_PASSWORD"},
                    "ops-worker": {"OPENSEARCH_ADMIN_PASSWORD"}}


def _mounts(service: dict) -> dict[str, str]:
    """target -> source of a service's volumes (short syntax)."""
    out = {}
    for vol in service.get("volumes") or []:
        source, _, rest = str(vol).partition(":")
        out[rest.split(":")[0]] = source
    return out


def _networks(service: dict) -> set[str]:
    nets = service.get("networks") or []
    return set(nets if isinstance(nets, list) else nets.keys())


@pytest.fixture(scope="module")
def node_config() -> dict:
    with open(ROOT / "deploy" / "opensearch.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_security_plugin_is_on_on_every_node(services, node_config):
    for name in _opensearch_services(services):
        svc, env = services[name], _env(services[name])
        assert "DISABLE_SECURITY_PLUGIN" not in env, f"{name}: DISABLE_SECURITY_PLUGIN is set"
        assert env.get("DISABLE_INSTALL_DEMO_CONFIG") == "true", \
            f"{name}: the demo configuration (admin/admin, demo certificates) would be installed"
        mounts = _mounts(svc)
        config = "/usr/share/opensearch/config"
        assert mounts.get(f"{config}/opensearch.yml") == "./deploy/opensearch.yml", \
            f"{name}: deploy/opensearch.yml is not its opensearch.yml"
        for target, volume in ((f"{config}/certs", "engine-node-certs"),
                               (f"{config}/opensearch-security", "engine-security-config")):
            assert mounts.get(target) == volume, f"{name}: {volume} not mounted at {target}"
        deps = svc.get("depends_on") or {}
        assert deps.get("engine-setup", {}).get("condition") == "service_completed_successfully", \
            f"{name} must start after engine-setup made its certificates"
        probe = " ".join(svc.get("healthcheck", {}).get("test") or [])
        assert "https://" in probe and "http://" not in probe, f"{name}: healthcheck {probe!r}"
    for key in ("plugins.security.ssl.transport.pemcert_filepath",
                "plugins.security.ssl.transport.pemkey_filepath",
                "plugins.security.ssl.transport.pemtrustedcas_filepath",
                "plugins.security.ssl.http.pemcert_filepath",
                "plugins.security.authcz.admin_dn", "plugins.security.nodes_dn"):
        assert node_config.get(key), f"deploy/opensearch.yml lacks {key}"
    assert node_config.get("plugins.security.ssl.http.enabled") is True, "HTTP TLS is off"
    assert not node_config.get("plugins.security.disabled"), "plugins.security.disabled is set"


def test_engine_setup_is_a_one_shot_that_makes_certificates_and_users(services, dockerfile):
    setup = services.get("engine-setup")
    assert setup, "no engine-setup service"
    assert setup.get("restart") == "no", "engine-setup must run once"
    script = " ".join(_command(setup))
    assert "engine_security.py certs" in script and "engine_security.py config" in script, script
    assert "--no-test-aliases" in script, "production roles must not cover the tests' aliases"
    for host in ("opensearch-1", "opensearch-2"):
        assert host in script, f"the node certificate does not name {host}"
    env = _env(setup)
    for var in ("OPENSEARCH_WEB_PASSWORD", "OPENSEARCH_WORKER_PASSWORD", "OPENSEARCH_ADMIN_PASSWORD"):
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]*\}}", env.get(var) or ""), \
            f"engine-setup: {var} must be ${{{var}:?...}}"
    assert "scripts/engine_security.py" in dockerfile, "the image lacks scripts/engine_security.py"
    # the CA key and admin certificate stay in the setup service's own volume
    holders = sorted(n for n, svc in services.items()
                     if "engine-admin-certs" in _mounts(svc).values() and n != "engine-setup")
    assert not holders, f"the CA key / admin certificate volume is mounted in {holders}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_reaches_the_engine_over_https_with_the_ca(services, name):
    env = _env(services[name])
    urls = [u.strip() for u in (env.get("OPENSEARCH_URL") or "").split(",") if u.strip()]
    plain = [u for u in urls if not u.startswith("https://")]
    assert not plain, f"{name}: OPENSEARCH_URL is not https: {plain}"
    ca = env.get("OPENSEARCH_CA_CERTS") or ""
    assert ca.startswith("/"), f"{name}: OPENSEARCH_CA_CERTS not set"
    mounts = _mounts(services[name])
    assert mounts.get(str(Path(ca).parent)) == "engine-ca", \
        f"{name}: the engine-ca volume is not mounted at {Path(ca).parent}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_service_holds_only_its_own_engine_password(services, name):
    env = _env(services[name])
    held = {k for k in env if re.fullmatch(r"OPENSEARCH_\w+_PASSWORD", k)}
    assert held == ENGINE_PASSWORDS[name], \
        f"{name} holds engine passwords {sorted(held)}, should hold {sorted(ENGINE_PASSWORDS[name])}"
    for var in held:
        assert re.fullmatch(rf"\$\{{{var}:\?[^}}]*\}}", env[var] or ""), \
            f"{name}: {var} must be ${{{var}:?...}}, got {env[var]!r}"


def test_redis_requires_a_password(services):
    redis_svc = services["redis"]
    env = _env(redis_svc)
    assert re.fullmatch(r"\$\{REDIS_PASSWORD:\?[^}]*\}", env.get("REDIS_PASSWORD") or ""), \
        "redis: REDIS_PASSWORD must be ${REDIS_PASSWORD:?...}"
    command = " ".join(_command(redis_svc))
    assert "requirepass" in command and "$$REDIS_PASSWORD" in command, \
        f"redis-server is not started with requirepass: {command!r}"
    probe = " ".join(redis_svc.get("healthcheck", {}).get("test") or [])
    assert "REDISCLI_AUTH" in probe, f"the redis healthcheck does not authenticate: {probe!r}"
    for name in APP_SERVICES:
        url = _env(services[name]).get("REDIS_URL") or ""
        assert re.match(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:", url), \
            f"{name}: REDIS_URL carries no ${{REDIS_PASSWORD:?...}}: {url!r}"


def test_only_the_proxy_reaches_web(services, compose):
    published = sorted(n for n, svc in services.items() if svc.get("ports"))
    assert published == ["proxy"], f"services publishing ports: {published} (only the proxy may)"
    front = sorted(n for n, svc in services.items() if "front" in _networks(svc))
    assert front == ["proxy", "web"], f"on the front network: {front} (only proxy and web)"
    assert _networks(services["proxy"]) == {"front"}, "the proxy must not reach the back network"
    for name, svc in services.items():
        if name in ("proxy", "engine-setup"):
            continue
        assert "back" in _networks(svc), f"{name} is not on the back network"
    assert svc_network_mode(services["engine-setup"]) == "none", "engine-setup needs no network"
    networks = compose.get("networks") or {}
    assert (networks.get("back") or {}).get("internal") is True, "the back network is not internal"
    proxy_cmd = " ".join(_command(services["proxy"]))
    assert "web:8000" in proxy_cmd, f"the proxy does not forward to web: {proxy_cmd!r}"


def svc_network_mode(service: dict) -> str | None:
    return service.get("network_mode")


# --- scheduled backups: beat queues them on `ops`, one worker takes that queue ---------------

def _queues(service: dict) -> set[str]:
    """The queues a celery worker consumes (-Q / --queues); Celery's default queue without."""
    cmd = _command(service)
    for flag in ("-Q", "--queues"):
        if flag in cmd:
            return set(cmd[cmd.index(flag) + 1].split(","))
    return {"celery"}


def test_the_ops_queue_has_a_worker_and_only_one(services):
    source = (ROOT / "workers" / "celery_app.py").read_text("utf-8")
    assert '"queue": "ops"' in source, "scheduled backups are no longer routed to the ops queue"
    workers = {n: _queues(svc) for n, svc in services.items()
               if svc.get("command") and _command(svc)[:4] == ["celery", "-A", "workers.worker", "worker"]}
    takers = sorted(n for n, queues in workers.items() if "ops" in queues)
    assert takers == ["ops-worker"], (
        f"the ops queue (beat's scheduled backups) is consumed by {takers or 'no service'}: "
        "backups would pile up unrun, or run under the ingest worker's identity")
    assert "celery" in workers["worker"] and "ops" not in workers["worker"], workers["worker"]
    hours = _env(services["beat"]).get("BACKUP_INTERVAL_HOURS") or "0"
    default = re.fullmatch(r"\$\{BACKUP_INTERVAL_HOURS:-(\d+)\}", hours)
    assert int(default.group(1) if default else hours) > 0, (
        f"beat schedules no backup by default (BACKUP_INTERVAL_HOURS={hours!r})")


def test_ops_worker_reaches_the_snapshot_repository_of_both_nodes(services, node_config):
    env = _env(services["ops-worker"])
    snapshots, backups = env.get("BACKUP_SNAPSHOT_DIR"), env.get("BACKUP_DIR")
    assert snapshots and snapshots.startswith("/") and backups and backups.startswith("/"), env
    assert snapshots in (node_config.get("path.repo") or []), (
        f"BACKUP_SNAPSHOT_DIR {snapshots} is not the nodes' path.repo {node_config.get('path.repo')}:"
        " the engine refuses to register the snapshot repository there")
    mounts = _mounts(services["ops-worker"])
    volume = mounts.get(snapshots)
    assert volume, f"ops-worker: no volume at BACKUP_SNAPSHOT_DIR {snapshots}"
    for node in _opensearch_services(services):
        assert _mounts(services[node]).get(snapshots) == volume, (
            f"{node} does not mount {volume} at {snapshots}: its snapshot files would not reach "
            "ops-worker (the repository location is the same path on every side)")
    assert mounts.get(backups), f"ops-worker: no volume at BACKUP_DIR {backups}"
    assert mounts.get(_env(services["ops-worker"])["BLOB_DIR"]) == _mounts(services["worker"]).get(
        _env(services["worker"])["BLOB_DIR"]), "ops-worker does not see the blob store it backs up"
    key_store = _env(services["worker"]).get("KEY_STORE_DIR")
    assert key_store not in mounts, "ops-worker mounts the key store: keys must never reach a backup"


def test_image_can_dump_the_database(dockerfile, services):
    assert re.search(r"\bpostgresql-client\b", dockerfile), (
        "the image has no pg_dump/pg_restore: `flask backup` on PostgreSQL cannot run in it")
    image = str(services["postgres"].get("image", ""))
    assert image.startswith("postgres:15"), (
        f"{image}: Debian 12's pg_dump (15) refuses a newer server; keep the server at 15 or "
        "install a matching client")
