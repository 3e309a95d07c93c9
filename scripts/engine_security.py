"""Certificates and security-plugin configuration for the OpenSearch engine (dev, CI and compose).

    python scripts/engine_security.py certs  DIR --hosts localhost,127.0.0.1[,opensearch-1,...]
    python scripts/engine_security.py config DIR --alias archive-pages   (passwords from the env)

`certs` makes a private CA, one node certificate (server + client use: it serves HTTPS and both
ends of the transport TLS) and an admin client certificate (the security plugin's admin_dn: only
it may change the security index, with securityadmin.sh). Existing files are kept, so a second
run changes nothing; keys are written 0600.

`config` writes the YAML files the plugin initialises its security index from at first start:
three internal users with bcrypt hashes of OPENSEARCH_{WEB,WORKER,ADMIN}_PASSWORD and
least-privilege roles (docs/security.md explains who may do what). Why patterns look the way they
do: the web user gets the alias only, never `<alias>-v*`, so it reads through the alias and
nothing else; tests name their per-session aliases `test-pages-<8 hex>` (tests/conftest.py), which
the regex `/test-pages-[0-9a-f]{8}/` matches whole while it does not match their versioned indices.
Standalone on purpose (cryptography and bcrypt only): the compose setup service runs it too.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import ipaddress
import json
import os
import sys
from pathlib import Path

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORG = "archive-search"
NODE_DN = f"CN=archive-node,OU=engine,O={ORG}"
ADMIN_DN = f"CN=archive-admin,OU=engine,O={ORG}"
USERS = {"web": "archive_web", "worker": "archive_worker", "admin": "archive_admin"}
# Per-session test aliases (tests/conftest.py) and their versioned indices.
TEST_ALIAS_REGEX = "/test-pages-[0-9a-f]{8}/"
TEST_INDICES = "test-pages-*"
TEST_CHECKPOINTS = "test-audit-cp-*"
READ = ["indices:data/read/search*", "indices:data/read/get", "indices:data/read/mget*",
        "indices:data/read/scroll*"]
DAYS = 825


def _name(dn: str) -> x509.Name:
    attrs = {"CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
             "O": NameOID.ORGANIZATION_NAME}
    # RFC 4514 order (most specific first) is the reverse of the certificate's RDN sequence
    parts = [p.split("=", 1) for p in dn.split(",")]
    return x509.Name([x509.NameAttribute(attrs[k], v) for k, v in reversed(parts)])


def _write_key(path: Path, key: rsa.RSAPrivateKey) -> None:
    # PKCS#8, unencrypted: the only private key form the security plugin reads
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o644)


def _issue(subject: str, key, ca_cert, ca_key, *, hosts: list[str] | None, server: bool
           ) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(ca_cert.subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=DAYS))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True,
                                            content_commitment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True))
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if hosts:
        sans: list[x509.GeneralName] = []
        for host in hosts:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def make_certs(out: Path, hosts: list[str]) -> list[str]:
    """CA, node and admin certificates in `out`; returns the names of the files it created."""
    out.mkdir(parents=True, exist_ok=True)
    made: list[str] = []
    ca_pem, ca_key_path = out / "ca.pem", out / "ca.key"
    if not (ca_pem.exists() and ca_key_path.exists()):
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        now = dt.datetime.now(dt.timezone.utc)
        name = _name(f"CN=archive-search private CA,OU=engine,O={ORG}")
        ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=False, key_encipherment=False,
                                                content_commitment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True,
                                                crl_sign=True, encipher_only=False,
                                                decipher_only=False), critical=True)
                   .sign(ca_key, hashes.SHA256()))
        _write_key(ca_key_path, ca_key)
        _write_cert(ca_pem, ca_cert)
        made += ["ca.pem", "ca.key"]
        for stale in ("node.pem", "node.key", "admin.pem", "admin.key"):
            (out / stale).unlink(missing_ok=True)  # signed by a CA that is gone
    ca_cert = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
    for stem, dn, server in (("node", NODE_DN, True), ("admin", ADMIN_DN, False)):
        pem, key_path = out / f"{stem}.pem", out / f"{stem}.key"
        if pem.exists() and key_path.exists():
            continue
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(key_path, key)
        _write_cert(pem, _issue(dn, key, ca_cert, ca_key, hosts=hosts if server else None,
                                server=server))
        made += [f"{stem}.pem", f"{stem}.key"]
    return made


def _hash(password: str) -> str:
    if len(password) < 16:
        raise SystemExit("engine passwords must be at least 16 characters")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=12)).decode()


def roles(alias: str, *, with_tests: bool) -> dict:
    """The three roles. Index names: `alias` itself, its versioned indices `alias-v*`."""
    read_alias = [alias] + ([TEST_ALIAS_REGEX] if with_tests else [])
    versioned = [alias, f"{alias}-v*"] + ([TEST_INDICES] if with_tests else [])
    # the audit chain's checkpoints (search_app/audit/checkpoints.py): read by everyone who
    # verifies the chain (the auditor's page runs in web), appended by the worker and the CLI,
    # deleted by nobody (the tests' admin may, to replay that attack)
    checkpoints = [f"{alias}-audit-checkpoints"]
    read_checkpoints = {"index_patterns": checkpoints + ([TEST_CHECKPOINTS] if with_tests else []),
                        "allowed_actions": [*READ, "indices:admin/get"]}
    append_checkpoints = {"index_patterns": checkpoints + ([TEST_CHECKPOINTS] if with_tests else []),
                          "allowed_actions": [*READ, "indices:admin/get", "indices:admin/create",
                                              "indices:data/write/index",
                                              "indices:data/write/bulk*",
                                              "indices:admin/refresh*"]}
    return {
        "_meta": {"type": "roles", "config_version": 2},
        # search/get through the alias, nothing else: no write, no mapping, no alias change
        "archive_web": {
            "cluster_permissions": ["cluster_composite_ops_ro", "indices:data/read/scroll/clear",
                                    "cluster:monitor/health"],  # /readyz
            "index_permissions": [{
                "index_patterns": read_alias,
                "allowed_actions": [*READ, "indices:admin/aliases/get"]}, read_checkpoints]},
        # index / delete documents and refresh in the versioned indices (through the alias)
        "archive_worker": {
            "cluster_permissions": ["cluster_composite_ops", "indices:data/read/scroll/clear",
                                    "cluster:monitor/health"],
            "index_permissions": [{
                "index_patterns": versioned,
                "allowed_actions": [*READ, "indices:data/write/index", "indices:data/write/bulk*",
                                    "indices:data/write/delete", "indices:admin/refresh*",
                                    "indices:admin/aliases/get"]}, append_checkpoints]},
        # the operations CLI: create/delete versioned indices, swap the alias, snapshots
        "archive_admin": {
            "cluster_permissions": ["cluster_monitor", "cluster_composite_ops",
                                    "indices:data/read/scroll/clear",
                                    "cluster:admin/repository/*", "cluster:admin/snapshot/*",
                                    "indices:admin/aliases", "indices:admin/aliases/get"],
            "index_permissions": [{
                "index_patterns": versioned,
                "allowed_actions": ["indices_all"]}, append_checkpoints,
                *([{"index_patterns": [TEST_CHECKPOINTS], "allowed_actions": ["indices_all"]}]
                  if with_tests else [])]},
    }


def security_config(alias: str, passwords: dict[str, str], *, with_tests: bool) -> dict[str, dict]:
    users = {"_meta": {"type": "internalusers", "config_version": 2}}
    mapping = {"_meta": {"type": "rolesmapping", "config_version": 2}}
    for who, user in USERS.items():
        users[user] = {"hash": _hash(passwords[who]), "reserved": False,
                       "description": f"archive-search {who} identity"}
        mapping[user] = {"users": [user]}
    config = {"_meta": {"type": "config", "config_version": 2},
              "config": {"dynamic": {
                  "http": {"anonymous_auth_enabled": False},
                  "authc": {"basic_internal_auth_domain": {
                      "description": "internal users, HTTP basic over TLS",
                      "http_enabled": True, "transport_enabled": True, "order": 0,
                      "http_authenticator": {"type": "basic", "challenge": False},
                      "authentication_backend": {"type": "intern"}}}}}}
    return {"internal_users.yml": users, "roles.yml": roles(alias, with_tests=with_tests),
            "roles_mapping.yml": mapping,
            "action_groups.yml": {"_meta": {"type": "actiongroups", "config_version": 2}},
            "config.yml": config}


FINGERPRINT = ".archive-inputs.sha256"


def fingerprint(alias: str, passwords: dict[str, str], *, with_tests: bool) -> str:
    """Of what the files say (roles, users, passwords), not of the files: bcrypt salts differ on
    every run, so comparing files would re-apply the configuration each time."""
    body = json.dumps({"roles": roles(alias, with_tests=with_tests), "users": USERS,
                       "passwords": {k: hashlib.sha256(v.encode()).hexdigest()
                                     for k, v in sorted(passwords.items())}}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def write_config(out: Path, alias: str, passwords: dict[str, str], *, with_tests: bool) -> bool:
    """Write the files unless they already say the same; returns whether they changed."""
    out.mkdir(parents=True, exist_ok=True)
    digest = fingerprint(alias, passwords, with_tests=with_tests)
    marker = out / FINGERPRINT
    if marker.exists() and marker.read_text().strip() == digest:
        return False
    for name, body in security_config(alias, passwords, with_tests=with_tests).items():
        path = out / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            # JSON is YAML: no YAML library needed, and no quoting surprises in the regex
            json.dump(body, fh, indent=2, ensure_ascii=False)
            fh.write("\n")
        os.chmod(path, 0o600)
    # the remaining config types, empty, where the plugin's own copies are absent (compose)
    for name, body in OPTIONAL_CONFIG.items():
        path = out / name
        if not path.exists():
            path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
            os.chmod(path, 0o600)
    marker.write_text(digest + "\n")
    return True


OPTIONAL_CONFIG = {
    "tenants.yml": {"_meta": {"type": "tenants", "config_version": 2}},
    "nodes_dn.yml": {"_meta": {"type": "nodesdn", "config_version": 2}},
    "allowlist.yml": {"_meta": {"type": "allowlist", "config_version": 2},
                      "config": {"enabled": False, "requests": {}}},
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("certs")
    c.add_argument("dir", type=Path)
    c.add_argument("--hosts", default="localhost,127.0.0.1")
    g = sub.add_parser("config")
    g.add_argument("dir", type=Path)
    g.add_argument("--alias", default="archive-pages")
    g.add_argument("--no-test-aliases", action="store_true",
                   help="production: no role covers the tests' per-session aliases")
    args = parser.parse_args(argv)
    if args.cmd == "certs":
        made = make_certs(args.dir, [h.strip() for h in args.hosts.split(",") if h.strip()])
        print(f"[engine-security] certificates in {args.dir}: "
              + (", ".join(made) + " created" if made else "all present"))
        return 0
    passwords = {}
    for who in USERS:
        var = f"OPENSEARCH_{who.upper()}_PASSWORD"
        value = os.environ.get(var, "")
        if not value:
            print(f"[engine-security] {var} is not set", file=sys.stderr)
            return 1
        passwords[who] = value
    changed = write_config(args.dir, args.alias, passwords, with_tests=not args.no_test_aliases)
    print(f"[engine-security] security configuration in {args.dir}: "
          + ("written" if changed else "unchanged"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
