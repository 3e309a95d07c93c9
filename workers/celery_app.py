"""Celery bound to the Flask app: every task runs inside an app context (flask's celery pattern)."""
from __future__ import annotations

from celery import Celery, Task
from celery.signals import worker_init, worker_ready
from flask import Flask


def _transport_options(visibility_timeout: int) -> dict:
    """Redelivery of unacknowledged tasks on the Redis broker.

    A worker killed mid-task (SIGKILL, OOM, power) cannot reject its message; kombu moves it
    back to the queue once it has been unacknowledged for `visibility_timeout` seconds. The
    sweep that does so runs every `unacked_restore_interval` seconds (throttle 1: every sweep
    scans), here a tenth of the timeout, so recovery takes at most ~1.1x the timeout.
    The sweep holds a Redis lock for milliseconds; a worker killed while holding it blocks every
    sweep until the lock expires (kombu's default: 300 s, seen here as a 5-minute stall after a
    SIGKILL), so the lock expires after half the timeout instead (at most 300 s).
    """
    return {"visibility_timeout": visibility_timeout,
            "unacked_restore_interval": max(1, min(60, visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": max(2, min(300, visibility_timeout // 2))}


def _warm_stages(**_kwargs: object) -> None:
    """In the worker's main process, before the pool forks: the text stages' dictionaries are
    loaded once and inherited, not loaded again by each child on its first page."""
    from indexer.ocr import sweep_stale_inputs
    from search_app.ingest.pagework import warm_up

    sweep_stale_inputs()  # a page left by a killed OCR process (the unredacted page and its text)
    warm_up()


def _release_held(celery: Celery) -> None:
    """A worker that starts (after Redis came back, say) asks for the held ingest files at once,
    as a task (run by a pool process, never in the main process that forks the pool)."""
    try:
        celery.send_task("workers.tasks.release_held_ingest")
    except Exception as exc:  # the broker went away again: beat asks later
        import logging

        logging.getLogger(__name__).warning("held ingest not asked for at start: %s", exc)


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config["REDIS_URL"],
        result_backend=app.config["REDIS_URL"],
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # one page process per CPU unless set (a `--concurrency` on the command line wins)
        worker_concurrency=app.config["WORKER_CONCURRENCY"],
        task_always_eager=app.config["CELERY_ALWAYS_EAGER"],
        broker_connection_retry_on_startup=True,
        broker_transport_options=_transport_options(app.config["CELERY_VISIBILITY_TIMEOUT_S"]),
        imports=["workers.tasks"],
        beat_schedule={
            "verify-audit-chain": {"task": "workers.tasks.verify_audit_chain",
                                   "schedule": 60.0 * app.config["AUDIT_VERIFY_MINUTES"]},
            "write-audit-checkpoint": {"task": "workers.tasks.write_audit_checkpoint",
                                       "schedule": 60.0 * app.config["AUDIT_CHECKPOINT_MINUTES"]},
            "expire-pending-requests": {"task": "workers.tasks.expire_pending_requests",
                                        "schedule": 3600.0},
            "release-held-ingest": {"task": "workers.tasks.release_held_ingest",
                                    "schedule": float(app.config["INGEST_HELD_RETRY_S"])},
        },
    )
    if app.config["BACKUP_INTERVAL_HOURS"]:
        # on the `ops` queue: only a worker holding the engine's admin identity (snapshots) takes
        # it, never the ingest worker (docs/operations.md, *Scheduled backups*)
        celery.conf.beat_schedule["scheduled-backup"] = {
            "task": "workers.tasks.scheduled_backup",
            "schedule": 3600.0 * app.config["BACKUP_INTERVAL_HOURS"],
            "options": {"queue": "ops"}}
        celery.conf.task_routes = {"workers.tasks.scheduled_backup": {"queue": "ops"}}
    celery.set_default()
    worker_init.connect(_warm_stages, weak=False, dispatch_uid="archive-search-warm-stages")
    worker_ready.connect(lambda **_kw: _release_held(celery), weak=False,
                         dispatch_uid="archive-search-release-held")
    app.extensions["celery"] = celery
    return celery
