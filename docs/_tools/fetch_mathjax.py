"""Fetch MathJax once from the npm registry into ``docs/_vendor/mathjax/`` (no CDN).

``python docs/_tools/fetch_mathjax.py`` (``make docs`` runs it when the file is missing).
Only the standard library is used, so it works before any virtual environment exists.
The tarball is checked against the registry's published sha512 integrity before
anything is extracted; only ``es5/tex-svg-full.js`` is kept: one self-contained file
(TeX input with every extension, SVG output whose glyphs are built in, so no font
files and no further requests at view time).
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

VERSION = "3.2.2"
URL = f"https://registry.npmjs.org/mathjax/-/mathjax-{VERSION}.tgz"
#: ``dist.integrity`` of mathjax@3.2.2 as published by the npm registry.
INTEGRITY = ("sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsj"
             "KPZGJvtRZM1vO+geW0OhGw==")
MEMBER = "package/es5/tex-svg-full.js"
DEST = Path(__file__).resolve().parents[1] / "_vendor" / "mathjax"


def fetch(dest: Path = DEST) -> Path:
    target = dest / "tex-svg-full.js"
    if target.exists():
        return target
    print(f"fetching MathJax {VERSION} from {URL}", file=sys.stderr)
    with urllib.request.urlopen(URL, timeout=120) as r:  # noqa: S310 - fixed https URL
        blob = r.read()
    digest = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()
    if digest != INTEGRITY:
        raise SystemExit(f"MathJax tarball integrity mismatch: got {digest}")
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        data = tar.extractfile(MEMBER).read()
        licence = tar.extractfile("package/LICENSE").read()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "LICENSE").write_bytes(licence)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


if __name__ == "__main__":
    print(fetch())
