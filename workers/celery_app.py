"""Celery bound to the Flask app: every task runs inside an app context (flask's celery pattern)."""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask


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
        task_always_eager=app.config["CELERY_ALWAYS_EAGER"],
        broker_connection_retry_on_startup=True,
        imports=["workers.tasks"],
        beat_schedule={
            "verify-audit-chain": {"task": "workers.tasks.verify_audit_chain",
                                   "schedule": 60.0 * app.config["AUDIT_VERIFY_MINUTES"]},
            "expire-pending-requests": {"task": "workers.tasks.expire_pending_requests",
                                        "schedule": 3600.0},
        },
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
