"""What per-file data keys cost a read: decrypting a page text under the master key vs under its
file's own key (unwrapped from the key store on every read, never cached, so a destroyed key is
gone for every process at once).

    .venv/bin/python bench/file_key_bench.py [--reads 3000] [--files 50]

Both runs in the same process on the same machine, same 6 KB plaintext (a page's JSON secret).
Prints the per-read time of each and the ratio; the figure that matters is the absolute added
time next to a page view's engine round trip (milliseconds).
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

from search_app.crypto import Vault
from search_app.keystore import KeyStore


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reads", type=int, default=3000)
    ap.add_argument("--files", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        master = Vault({"k1": os.urandom(32)}, "k1", os.urandom(32), keystore=KeyStore(tmp))
        plain = ("页面原文 " * 600).encode()[:6000]
        names = [f"BENCH-{i:04d}" for i in range(args.files)]
        under_master = [master.encrypt(plain, aad=n.encode()) for n in names]
        under_file = [master.for_file(n).encrypt(plain, aad=n.encode()) for n in names]
        results = {}
        for label, blobs in (("master key", under_master), ("file key", under_file)):
            t0 = time.perf_counter()
            for i in range(args.reads):
                master.decrypt(blobs[i % len(blobs)], aad=names[i % len(names)].encode())
            results[label] = (time.perf_counter() - t0) / args.reads * 1e6
    print(f"| decrypt one page text ({args.reads} reads, {args.files} files) | µs per read |")
    print("|---|---|")
    for label, us in results.items():
        print(f"| {label} | {us:.1f} |")
    print(f"| ratio file/master | {results['file key'] / results['master key']:.2f} |")
    print(f"| added per read | {results['file key'] - results['master key']:.1f} µs |")


if __name__ == "__main__":
    main()
