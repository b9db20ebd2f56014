"""Recovery of deleted rows from SQLite databases (issue 13, "Deleted records").

Freeblocks, unallocated areas and freelist pages of the database, older page versions in its WAL
and rollback journal; cells whose header a freeblock overwrote are rebuilt from the table schema,
as FQLite does. `recover()` only reads its inputs.
"""

from .engine import RecoveredRow, recover
from .pages import RecoveryError

__all__ = ["RecoveredRow", "RecoveryError", "recover"]
