"""Demo stage (`make demo`): a small local ad site on 127.0.0.1 is captured, listed, searched and
packaged as WACZ; the site is stopped at the end."""

from __future__ import annotations

from typing import Any

from .adsite import DEMO_CONTACT, AdSite, phone


def run(ctx: Any) -> None:
    case = str(ctx.case)
    with AdSite(ads=8, contact=DEMO_CONTACT) as site:
        print(f"\nDemo ad site (Arabic and French advertisements) serving on {site.url}", flush=True)
        ctx.dalil("collect", site.url, "--exhibit", "WEB-001", "--depth", "1", "--case", case,
                  "--reason", "Demo warrant 002: public advertisements")
        ctx.dalil("captures", "--exhibit", "WEB-001", "--case", case)
        ctx.dalil("search", phone(3), "--case", case)
        local = f"0{phone(5)[4:]}".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
        ctx.dalil("search", local, "--case", case)
        wacz = ctx.out / "WEB-001.wacz"
        ctx.dalil("wacz", "--exhibit", "WEB-001", "--out", str(wacz), "--case", case)
    ctx.results.append(f"web captures     dalil captures --exhibit WEB-001 --case {case}")
    ctx.results.append(f"web archive      {wacz} (open in ReplayWeb.page)")
