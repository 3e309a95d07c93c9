"""gunicorn reads this file from the working directory (the Dockerfile copies it next to the code).

The worker timeout is WEB_TIMEOUT_S, the same setting the app checks the engine's timeout x
retries against at start-up (search_app.config), so a hung engine is answered with a 503 before
gunicorn kills the worker.

Keep-alive outlasts every client that reuses an idle connection. With gunicorn's default of 2 s
a threaded worker (gthread, as bench/load.py and bench/search_bench.py run it) closed idle
connections while the client was already sending its next request on them: a request that
arrives on a socket the server is closing is answered with a TCP reset, so the reader got no
answer at all (bench/load.py: 14 of 1 725 requests, `ConnectionResetError(104)`, with the same
two workers alive throughout and nothing in gunicorn's log; reproduced with 20 clients idling
1.9-2.1 s, and gone at 150 s). The side that closes an idle connection must be the client:
Caddy (the compose `proxy`) drops idle upstream connections after 2 minutes, its default, so
the server waits longer than that. Idle connections wait in the worker's poller, not in a thread.
The sync worker (one request per connection) ignores this setting.

Worker class: gthread, threads per worker 4, one worker per core unless `--workers` says
otherwise (the Dockerfile and compose pass 4). With the sync worker each process serves one
request at a time, so a read's audit record never had company in the process's group commit
(search_app.audit.writer batches the records of one process's concurrent requests) and every
read waited for a durable flush of its own; with threads the requests waiting on the engine or
on the flush share one, and an idle keep-alive connection holds no worker. The threads share
the GIL, so more than a few per worker only adds queueing (bench/search_bench.py runs 2 x 4).
"""
import os

from search_app.config import web_timeout

worker_class = "gthread"
threads = 4
workers = os.cpu_count() or 1
timeout = web_timeout()
graceful_timeout = 30
keepalive = 150  # s; > Caddy's upstream idle_timeout (2 min) and any client's think time

# The access log names the path, never the query string or the referrer: the reading session's
# search is a GET (/search?s=…&q=…, /api/v1/sessions/<id>/search?q=…) and readers type ID
# numbers, phones and names as queries (docs/privacy.md; tests/test_privacy_logs.py).
# %(U)s is the path without the query; %(D)s the request time in microseconds.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(D)sus'
