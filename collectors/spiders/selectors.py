"""`selectors`: a classified site described in YAML (`--spider selectors --config site.yaml`).

    name: example-souq                  # a label for the provenance
    start_urls: [https://…/listing]     # optional when URLs are given on the command line
    listing:
      ads: "css:a.ad-link::attr(href)"  # links from a listing page to ad pages
      next: "css:a.next::attr(href)"    # the next listing page (optional)
    ad:
      fields:                           # any names; text of the matched nodes or attribute values
        title: "css:h1::text"
        text: "css:div.description"
        price: "xpath://span[@class='price']/text()"
        phone: "css:.phone::text"
        author: "css:.seller::text"
        author_url: "css:.seller a::attr(href)"

A selector is `css:…` or `xpath:…` (no prefix: CSS). Ad pages are captured with their images;
the fields go into the capture's details and their text into the indicators.
"""

from __future__ import annotations

from typing import Any, Iterable

from parsel import Selector
from scrapy.http import Response, TextResponse

from triage.core.errors import UsageError

from .base import CaptureSpider, is_html, visible_text

_KNOWN = {"name", "start_urls", "listing", "ad"}


def _split(selector: str) -> tuple[str, str]:
    kind, sep, expr = selector.partition(":")
    if sep and kind in ("css", "xpath"):
        return kind, expr.strip()
    return "css", selector.strip()


def check_config(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Refuse a config with unknown keys or selectors that do not compile."""
    unknown = set(data) - _KNOWN
    if unknown:
        raise UsageError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(_KNOWN)})")
    listing = data.get("listing") or {}
    ad = data.get("ad") or {}
    if not isinstance(listing, dict) or not isinstance(ad, dict):
        raise UsageError(f"{where}: 'listing' and 'ad' must be mappings")
    if not listing.get("ads"):
        raise UsageError(f"{where}: listing.ads (the selector of links to ad pages) is required")
    fields = ad.get("fields") or {}
    if not isinstance(fields, dict):
        raise UsageError(f"{where}: ad.fields must be a mapping of name: selector")
    probe = Selector(text="<html><body></body></html>")
    selectors = {"listing.ads": listing.get("ads"), "listing.next": listing.get("next"),
                 **{f"ad.fields.{k}": v for k, v in fields.items()}}
    for key, selector in selectors.items():
        if selector is None:
            continue
        if not isinstance(selector, str):
            raise UsageError(f"{where}: {key} must be a string selector")
        kind, expr = _split(selector)
        try:
            probe.css(expr) if kind == "css" else probe.xpath(expr)
        except Exception as exc:  # noqa: BLE001 - parsel raises several types for bad expressions
            raise UsageError(f"{where}: {key}: bad {kind} selector {expr!r}: {exc}") from exc
    urls = data.get("start_urls") or []
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise UsageError(f"{where}: start_urls must be a list of URLs")
    return data


def select(response: TextResponse, selector: str) -> list[str]:
    kind, expr = _split(selector)
    nodes = response.css(expr) if kind == "css" else response.xpath(expr)
    out = []
    for node in nodes:
        if isinstance(node.root, str):
            value = node.root
        else:
            value = " ".join(t.strip() for t in node.xpath(".//text()").getall() if t.strip())
        value = value.strip()
        if value:
            out.append(value)
    return out


class SelectorsSpider(CaptureSpider):
    name = "selectors"
    version = "1.0"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        config = kwargs.get("config") or {}
        super().__init__(list(urls) or list(config.get("start_urls") or []), **kwargs)

    def parse_page(self, response: Response) -> Iterable[Any]:
        listing = self.config.get("listing") or {}
        html = is_html(response)
        yield self.capture(response, "page", text=visible_text(response) if html else "", role="listing",
                           site=self.config.get("name"))
        # is_html is only true for a TextResponse; the isinstance check tells mypy so
        if not html or not isinstance(response, TextResponse) or response.status >= 400:
            return
        for href in select(response, listing["ads"]):
            request = self.page_request(response.urljoin(href), response.meta.get("dalil_depth", 0) + 1, self.parse_ad)
            if request is not None:
                yield request
        if listing.get("next"):
            for href in select(response, listing["next"])[:1]:
                request = self.page_request(response.urljoin(href), response.meta.get("dalil_depth", 0), self.parse)
                if request is not None:
                    yield request

    def parse_ad(self, response: Response) -> Iterable[Any]:
        fields: dict[str, str] = {}
        html = is_html(response)
        if html and isinstance(response, TextResponse):  # is_html implies a TextResponse
            for key, selector in ((self.config.get("ad") or {}).get("fields") or {}).items():
                values = select(response, selector)
                if values:
                    fields[key] = "\n".join(values)
        author_urls = [response.urljoin(fields["author_url"])] if fields.get("author_url") else []
        media = self.media_urls(response) if html else []
        yield self.capture(response, "page", text=visible_text(response) if html else "", role="ad",
                           site=self.config.get("name"), fields=fields, author=fields.get("author"),
                           author_urls=author_urls, media=media)
        if response.status < 400:
            for url in media:
                yield self.media_request(url)
