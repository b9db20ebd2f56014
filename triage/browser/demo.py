"""Demo stage (`make demo`, after the bundle): the portable viewer inside the court bundle, and the
command that opens the demo case in the browser (`dalil serve` prints its start URL with the token)."""

from __future__ import annotations

import shlex
import zipfile
from typing import Any

from triage.core.errors import DalilError


def run(ctx: Any) -> None:
    bundle = ctx.out / "court-bundle.zip"
    if bundle.exists():
        with zipfile.ZipFile(bundle) as zf:
            viewer = [n for n in zf.namelist() if n.endswith("data/viewer/index.html")]
        if not viewer:
            raise DalilError(f"the demo bundle {bundle} has no portable viewer")
        ctx.results.append(f"portable case    {bundle} → {viewer[0]} (unzip, open index.html in any browser; "
                           "covered by the bundle's manifests and signature)")
    env = f"XDG_CONFIG_HOME={shlex.quote(ctx.env['XDG_CONFIG_HOME'])} DALIL_EXAMINER={shlex.quote(ctx.env['DALIL_EXAMINER'])}"
    ctx.results.append(f"case browser     {env} dalil serve --case {shlex.quote(str(ctx.case))}")
    ctx.results.append("                 then open the URL it prints: http://127.0.0.1:8765/?token=… "
                       "(the token is new each start; add --open to open it, --read-only to forbid tags)")
