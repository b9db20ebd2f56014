"""What a running `dalil serve` knows: the case, its token and CSRF secret, its address, its mode."""

from __future__ import annotations

import hmac
import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ServeConfig:
    case_root: Path
    host: str = "127.0.0.1"
    port: int = 8765
    read_only: bool = False
    tiles: Path | None = None
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    examiner: str = ""

    @property
    def cookie(self) -> str:
        """Cookies are not kept apart by port: the name carries it, so two servers never mix."""
        return f"dalil_{self.port}"

    @property
    def csrf(self) -> str:
        """The token every write must carry (derived from the access token, never in a cookie)."""
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start_url(self) -> str:
        return f"{self.base_url()}/?token={self.token}"

    def allowed_hosts(self) -> set[str]:
        """Host header values accepted (a DNS-rebinding page sends its own name: refused)."""
        names = {self.host, "127.0.0.1", "localhost", "[::1]"} if self.host in ("127.0.0.1", "localhost", "::1") \
            else {self.host if ":" not in self.host else f"[{self.host}]"}
        return {f"{n}:{self.port}" for n in names}
