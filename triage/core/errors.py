"""One exception root for Dalil with specific subclasses, each carrying its CLI exit code.

Exit codes (GUIDE.md): 0 done, 1 failed or integrity broken, 2 usage or configuration error.
"""

from __future__ import annotations


class DalilError(Exception):
    """Root of every error Dalil raises on purpose; its message is one clear line for the user."""

    exit_code: int = 1


class NotFound(DalilError):
    """A path, exhibit, case or record does not exist."""


class Corrupted(DalilError):
    """Input is damaged or not what it claims to be (a truncated image, a broken database)."""


class Unsupported(DalilError):
    """A format or feature that Dalil recognises but cannot handle."""


class ConfigError(DalilError):
    """Bad configuration or usage (a malformed option, a rule file that does not compile)."""

    exit_code = 2


class UsageError(ConfigError):
    """The command line asks for something impossible."""


class IntegrityError(DalilError):
    """Evidence or the custody ledger does not match what was recorded: tampering or damage."""


class CaseBusy(DalilError):
    """Another Dalil process holds the case lock."""


class WrongPassword(DalilError):
    """A password given for encrypted evidence (an iOS or Android backup) does not open it."""


class Refused(DalilError):
    """An action was refused on purpose (e.g. a hash that does not match --expect)."""
