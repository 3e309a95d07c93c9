"""The client address the audit log names, behind reverse proxies that are actually ours.

werkzeug's ProxyFix trusts X-Forwarded-For from whoever sends it: with PROXY_HOPS=1 and the
web port reachable, any client could write any address into the audit record. Here the
forwarding headers are read only when the direct peer is one of TRUSTED_PROXIES; the chain is
then walked from the right (the entry our proxy appended) through further trusted proxies, at
most PROXY_HOPS entries, and the first address that is not a trusted proxy is the client.
From any other peer the headers are removed, so nothing downstream can read them either.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from typing import Any

from search_app.config import IPNetwork

_FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
              "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


def _ip(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


class TrustedProxies:
    """WSGI middleware: REMOTE_ADDR (and the scheme) from trusted proxies' headers only."""

    def __init__(self, app: Callable, networks: Iterable[IPNetwork], hops: int) -> None:
        self.app = app
        self.networks = tuple(networks)
        self.hops = hops

    def trusted(self, addr: str) -> bool:
        ip = _ip(addr)
        return ip is not None and any(ip in net for net in self.networks)

    def client_of(self, peer: str, forwarded_for: str) -> str:
        if self.hops < 1 or not self.trusted(peer):
            return peer
        chain = [part.strip() for part in forwarded_for.split(",") if part.strip()]
        client = peer
        for _ in range(self.hops):
            if not chain or not self.trusted(client):
                break
            candidate = chain.pop()
            if _ip(candidate) is None:  # garbage in the header: keep the last address we trust
                break
            client = candidate
        return client

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        peer = environ.get("REMOTE_ADDR", "")
        environ["archive.peer_addr"] = peer
        if self.hops >= 1 and self.trusted(peer):
            environ["REMOTE_ADDR"] = self.client_of(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
            proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        for name in _FORWARDED:
            environ.pop(name, None)
        return self.app(environ, start_response)
