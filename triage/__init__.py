"""Dalil: forensic triage, web-evidence capture and court bundles with a signed chain of custody."""

import os as _os

# numpy's OpenBLAS starts a thread per extra core when it is imported, which spins before it sleeps:
# 0.1 s of CPU in `dalil parse`'s first process for nothing (Dalil's matrices are 32x32 pHash DCTs,
# which OpenBLAS does not split anyway). Set before any module imports numpy; a user's setting stays.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
TOOL_NAME = "dalil"
