"""The one place that reads the environment.

Every setting has a type and a default suited to the one-machine start; production overrides come
from the environment (docker-compose.yml sets the same names). Secrets have no default: the app
refuses to start without them rather than run with a key somebody can read in the source.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

CLASSIFICATION_LEVELS: dict[str, int] = {"公开": 0, "内部": 1, "秘密": 2, "机密": 3}
CATEGORIES: tuple[str, ...] = ("户籍档案", "干部人事档案", "电子卷宗")

# name -> (parser, default); a default of None means "required".
_SPEC: dict[str, tuple[str, Any]] = {
    "SECRET_KEY": ("str", None),
    "ARCHIVE_DATA_KEY": ("key", None),
    "ARCHIVE_DATA_KEY_ID": ("str", "k1"),
    "ARCHIVE_BLIND_INDEX_KEY": ("key", None),
    "DATABASE_URL": ("str", "sqlite:///var/archive.sqlite3"),
    "OPENSEARCH_URL": ("str", "http://127.0.0.1:9200"),
    "OPENSEARCH_INDEX": ("str", "archive-pages"),
    "OPENSEARCH_REPLICAS": ("int", 0),
    "OPENSEARCH_TIMEOUT": ("int", 30),
    "REDIS_URL": ("str", "redis://127.0.0.1:6379/0"),
    "BLOB_DIR": ("str", "var/blobs"),
    "OCR_LANGS": ("str", "chi_sim+chi_tra"),
    "OCR_DPI": ("int", 300),
    "OCR_TIMEOUT_S": ("int", 120),
    "OCR_PREPROCESS": ("str", "grayscale,crop,deskew,scale,denoise,binarise"),
    "MAX_UPLOAD_MB": ("int", 200),
    "MAX_IMAGE_PIXELS": ("int", 80_000_000),
    "SEARCH_PAGE_SIZE": ("int", 20),
    "SESSION_COOKIE_SECURE": ("bool", False),
    "SESSION_MINUTES": ("int", 30),
    "CELERY_ALWAYS_EAGER": ("bool", False),
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none). The audit
    # log's client address is only right when this matches the deployment.
    "PROXY_HOPS": ("int", 0),
}


def _parse(kind: str, name: str, raw: str) -> Any:
    if kind == "str":
        return raw
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if kind == "bool":
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if kind == "key":
        return parse_key(name, raw)
    raise AssertionError(kind)


def parse_key(name: str, raw: str) -> bytes:
    """Keys are 32 random bytes, written as url-safe base64 (what `flask gen-keys` prints)."""
    try:
        key = base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4))
    except (ValueError, TypeError):
        raise ConfigError(f"{name} is not base64") from None
    if len(key) != 32:
        raise ConfigError(f"{name} must decode to 32 bytes, got {len(key)}")
    return key


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


def load_settings(env: Mapping[str, str] | None = None,
                  overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Typed settings from `env` (default: os.environ), then `overrides` (tests) on top."""
    env = os.environ if env is None else env
    overrides = dict(overrides or {})
    out: dict[str, Any] = {}
    missing = []
    for name, (kind, default) in _SPEC.items():
        if name in overrides:
            value = overrides.pop(name)
            out[name] = _parse(kind, name, value) if kind == "key" and isinstance(value, str) else value
        elif name in env and env[name] != "":
            out[name] = _parse(kind, name, env[name])
        elif default is None:
            missing.append(name)
        else:
            out[name] = default
    if missing:
        raise ConfigError("missing required settings: " + ", ".join(missing)
                          + " (scripts/dev.sh writes them to var/local.env)")
    out.update(overrides)
    return out


def setting_names() -> list[str]:
    """Every environment variable the app reads (docker-compose.yml is checked against it)."""
    return list(_SPEC)
