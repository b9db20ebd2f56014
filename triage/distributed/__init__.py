"""Distributed parsing: `dalil worker` processes on several machines run the per-file analysis of
`dalil parse --broker redis://…`; the coordinating `dalil parse` walks the image, sends batches of
files as Celery tasks and stays the only writer of `case.db`.

- `app`: the Celery application, its settings and the Redis keys both sides share;
- `checks`: what a task carries so a worker can prove it sees the same evidence and rule packs;
- `tasks`: the task a worker runs (reads the files by reference, analyses them, returns rows);
- `remote`: `RemotePipeline`, the coordinator's side, with `engine.Pipeline`'s interface;
- `live`: which workers are alive (their heartbeats), for the progress bar and the ledger.
"""
