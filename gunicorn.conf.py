"""gunicorn reads this file from the working directory: the worker timeout is WEB_TIMEOUT_S, the
same setting the app checks the engine's timeout x retries against at start-up (search_app.config),
so a hung engine is answered with a 503 before gunicorn kills the worker."""
from search_app.config import web_timeout

timeout = web_timeout()
graceful_timeout = 30
