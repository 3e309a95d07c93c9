"""Entry point for `celery -A workers.worker worker|beat`."""
from __future__ import annotations

from search_app import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
