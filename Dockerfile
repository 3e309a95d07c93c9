# Image for every Python process of the deployment: web (gunicorn), worker and beat (celery) and
# the one-shot `migrate` job; docker-compose.yml picks the command. Settings come only from the
# environment (search_app/config.py); nothing secret is baked into the image.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OMP_THREAD_LIMIT=1 \
    PYTHONPATH=/app

# Tesseract with the Simplified and Traditional Chinese models, and CJK fonts for rendering.
# postgresql-client: pg_dump / pg_restore for `flask backup` and `flask restore` (Debian 12: 15).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        postgresql-client \
        tesseract-ocr \
        tesseract-ocr-chi-sim \
        tesseract-ocr-chi-tra \
        fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

# uid/gid 1000, the OpenSearch image's user: the engine and ops-worker share the snapshot volume
# (path.repo) and each removes the files the other wrote there
RUN groupadd --system --gid 1000 app \
 && useradd --system --uid 1000 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

WORKDIR /app

# Only what the app needs: copying the whole directory would pull in .venv, .git and var/ (which
# holds the local development keys). New top-level runtime directories must be added here.
COPY pyproject.toml ./
COPY search_app ./search_app
COPY indexer ./indexer
COPY workers ./workers
COPY templates ./templates
COPY mappings ./mappings
COPY static ./static
# gunicorn reads it from the working directory: the worker timeout (WEB_TIMEOUT_S) and keep-alive
COPY gunicorn.conf.py ./
# the compose `engine-setup` one-shot service runs this (certificates, engine users and roles)
COPY scripts/engine_security.py ./scripts/engine_security.py

# Installed as root so the code stays read-only for the `app` user at run time. PYTHONPATH puts
# /app first, so templates/, mappings/ and static/ are found next to the code.
RUN pip install --no-cache-dir . \
 && rm -rf build ./*.egg-info \
 && install -d -o app -g app /data/blobs \
 && install -d -m 0700 -o app -g app /data/audit /data/backups /data/snapshots

USER app

EXPOSE 8000

CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "search_app:create_app()"]
