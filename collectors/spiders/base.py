"""The base of every spider: page/media requests within the limits, items, failures as items.

Spiders only parse and yield items; capture, hashing and provenance live in the components
(`collectors.middleware`, `collectors.pipelines`), so every spider gets them.
"""

from __future__ import annotations

import re
from typing import Any, AsyncIterator, Callable, Iterable
from urllib.parse import urldefrag, urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

_TEXT_XPATH = ("//body//text()[not(ancestor::script) and not(ancestor::style) and not(ancestor::noscript)"
               " and not(ancestor::template)]")
MEDIA_XPATH = ("//img/@src | //img/@data-src | //video/@src | //video/@poster | //audio/@src | //source/@src"
               " | //link[contains(concat(' ', normalize-space(@rel), ' '), ' stylesheet ')]/@href"
               " | //link[contains(concat(' ', normalize-space(@rel), ' '), ' icon ')]/@href | //script/@src")


_PROFILE_PATH = re.compile(r"^/(?:user|users|u|profile|profiles|member|members|seller|sellers|vendeur|author|"
                           r"authors|people|account)/[^/]+")


def visible_text(response: Response) -> str:
    if not isinstance(response, TextResponse):
        return ""
    try:
        parts = response.xpath(_TEXT_XPATH).getall() or response.xpath("//text()").getall()
    except (ValueError, AttributeError):
        return ""
    lines = [re.sub(r"[ \t\r\f\v]+", " ", p).strip() for p in "\n".join(parts).split("\n")]
    return "\n".join(line for line in lines if line)


def is_html(response: Response) -> bool:
    if not isinstance(response, TextResponse):
        return False
    # Headers.get gives None (not the default) for a header present with no value: same as absent
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    return "html" in ctype or (not ctype and response.text.lstrip()[:1] == "<")


class CaptureSpider(scrapy.Spider):
    """Common behaviour; subclasses set `name`, `version` and implement `parse_page`."""

    name = ""
    version = "1.0"

    def __init__(self, urls: list[str], depth: int = 1, max_pages: int = 100,
                 config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = list(urls)
        self.depth = depth
        self.max_pages = max_pages
        self.config = config or {}
        self.pages_requested = 0
        self.sites = {urlsplit(u).netloc.lower() for u in self.urls}
        self.limit_hit = False
        self.seen_pages: set[str] = set()

    async def start(self) -> AsyncIterator[Any]:
        for url in self.urls:
            request = self.page_request(url, 0, self.parse)
            if request is not None:
                yield request

    # --- requests -------------------------------------------------------------------------

    def same_site(self, url: str) -> bool:
        return urlsplit(url).netloc.lower() in self.sites

    def page_request(self, url: str, depth: int, callback: Callable[..., Any], **meta: Any) -> scrapy.Request | None:
        """A page (counted against --max-pages), or None if already asked for or over the limit."""
        url = urldefrag(url)[0]
        if url in self.seen_pages:
            return None
        if self.pages_requested >= self.max_pages:
            self.limit_hit = True
            return None
        self.pages_requested += 1
        self.seen_pages.add(url)
        return scrapy.Request(url, callback=callback, errback=self.failed,
                              meta={"dalil_depth": depth, "dalil_role": "page", **meta})

    def media_request(self, url: str) -> scrapy.Request:
        """An image, video, stylesheet or script of a captured page (recorded, not parsed)."""
        return scrapy.Request(urldefrag(url)[0], callback=self.media, errback=self.failed,
                              meta={"dalil_role": "media"})

    def media(self, response: Response) -> Iterable[Any]:
        return []

    def media_urls(self, response: Response) -> list[str]:
        if not isinstance(response, TextResponse):
            return []
        out = []
        for src in response.xpath(MEDIA_XPATH).getall():
            src = src.strip()
            if src and not src.startswith(("data:", "javascript:", "blob:")):
                url = response.urljoin(src)
                if url.startswith(("http://", "https://")) and url not in out:
                    out.append(url)
        return out

    def link_urls(self, response: Response) -> list[str]:
        if not isinstance(response, TextResponse):
            return []
        out = []
        for href in response.xpath("//a/@href | //area/@href").getall():
            url = urldefrag(response.urljoin(href.strip()))[0]
            if url.startswith(("http://", "https://")) and url not in out:
                out.append(url)
        return out

    def author_of(self, response: Response) -> tuple[str | None, list[str]]:
        """The author's name and profile URLs of a generic page: `<meta name=author>`, `rel=author`,
        `itemprop=author`, then links whose class or path says seller / author / user / profile."""
        if not isinstance(response, TextResponse) or not is_html(response):
            return None, []
        try:
            name = (response.xpath("//meta[translate(@name,'AUTHOR','author')='author']/@content").get()
                    or response.xpath("//*[@itemprop='author']//text()").get())
            hrefs = response.xpath(
                "//a[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]/@href"
                " | //link[contains(concat(' ', normalize-space(@rel), ' '), ' author ')]/@href"
                " | //*[@itemprop='author']//a/@href | //a[@itemprop='author' or @itemprop='url'][ancestor::*[@itemprop='author']]/@href"
                " | //a[contains(@class,'seller') or contains(@class,'author') or contains(@class,'profile')"
                " or contains(@class,'username')]/@href").getall()
        except (ValueError, AttributeError):
            return None, []
        urls = []
        for href in hrefs:
            url = urldefrag(response.urljoin(href.strip()))[0]
            if url.startswith(("http://", "https://")) and url not in urls:
                urls.append(url)
        for url in self.link_urls(response):
            path = urlsplit(url).path.lower()
            if _PROFILE_PATH.match(path) and url not in urls:
                urls.append(url)
        return (name.strip() or None) if name else None, urls[:20]

    # --- items ----------------------------------------------------------------------------

    def capture(self, response: Response, kind: str = "page", **fields: Any) -> dict[str, Any]:
        """An item for a captured page or post, with the exchange that carried it."""
        title = None
        if isinstance(response, TextResponse):
            try:
                title = (response.xpath("//title/text()").get() or "").strip() or None
            except (ValueError, AttributeError):
                title = None
        item = {"kind": kind, "url": response.url, "status": response.status, "title": title,
                "exchange": response.meta.get("dalil_exchange"), "spider": self.name,
                "depth": response.meta.get("dalil_depth", 0)}
        item.update(fields)
        return item

    def failed(self, failure: Failure) -> Iterable[dict[str, Any]]:
        """A failed request becomes an item: the gap is recorded, the crawl goes on."""
        request = getattr(failure, "request", None)
        value = failure.value
        message = f"{type(value).__name__}: {value}".strip()
        if type(value).__name__ in ("DownloadCancelledError", "CancelledError"):
            # Scrapy's HTTP/1.1 handler cancels a download only when it passes DOWNLOAD_MAXSIZE
            message = f"response larger than --max-size: download stopped ({message.rstrip(':')})"
        elif "maxsize" in message.lower() or "max size" in message.lower():
            message = f"response larger than --max-size ({message})"
        yield {"kind": "failure", "url": request.url if request is not None else None,
               "role": request.meta.get("dalil_role") if request is not None else None,
               "error": message, "exchange": request.meta.get("dalil_exchange") if request is not None else None,
               "spider": self.name}

    # --- parsing --------------------------------------------------------------------------

    def parse(self, response: Response, **kwargs: Any) -> Iterable[Any]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterable[Any]:
        raise NotImplementedError

    def follow_page_links(self, response: Response) -> Iterable[Any]:
        """Same-site links of an HTML page, one level deeper, within --depth and --max-pages."""
        depth = response.meta.get("dalil_depth", 0)
        if depth >= self.depth or response.status >= 400 or not is_html(response):
            return
        for url in self.link_urls(response):
            if self.same_site(url):
                request = self.page_request(url, depth + 1, self.parse)
                if request is not None:
                    yield request
                elif self.limit_hit:
                    return
