"""gunicorn for bench/load_test.py: the production configuration (config/gunicorn.conf.py) as it is,
plus two fields at the end of each access-log line: the time gunicorn spent on the request in
microseconds (%(D)s, from the parsed request to the last byte written) and the load test's request id
(its X-Load-Id header: a counter, no identifying data), so each client-side latency can be set beside
the server's own. Bind, workers and log files come from the GUNICORN_* variables, as in production.
"""
from pathlib import Path

_production = Path(__file__).resolve().parents[1] / "config" / "gunicorn.conf.py"
exec(compile(_production.read_text(), str(_production), "exec"))  # noqa: S102  (our own config file)

access_log_format = access_log_format + " %(D)sus id=%({x-load-id}i)s"  # noqa: F821  (set by the production config)
