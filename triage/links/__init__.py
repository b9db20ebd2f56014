"""Links across the evidence: one index of the entities (phone numbers, handles, e-mail addresses,
IBANs, wallets, domains, images, devices) seen in every exhibit, and the links they make between
exhibits and between cases.

Modules: `entities` and `finance` (canonical forms and checksums), `phash` (perceptual hashes),
`sources` (where entities are seen), `images` (look-alike groups), `index` (building the index),
`query` (listings, one entity, across cases), `graph` (GraphML, GEXF, CSV), `repository` (the
lab repository, SQLite or PostgreSQL). The command is `dalil links`; `dalil repository` pushes
and searches.
"""

NAME = "links"
VERSION = "1.0"  # of the index: an exhibit indexed with another version is re-indexed by --rebuild
