"""The knowledge index behind one small port (`IndexPort`) with two adapters.

`edge` (embedded default): Qdrant Edge, one shard directory per build and a pointer file naming
the live and previous builds. `server`: qdrant-client against a Qdrant server, one collection per
build and an alias. The rest of the application only sees the port.
"""
