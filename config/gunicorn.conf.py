"""gunicorn settings for the web process: ``gunicorn -c config/gunicorn.conf.py config.wsgi:application``.

The access log names method, path, status, size and duration, never the query string (no %(q)s,
%(r)s or the referrer %(f)s, which carry it): a search for a surname must not end up in a log.
Each value can be overridden by an environment variable or on the command line.
"""
import os

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# Only a TLS-terminating proxy at these addresses may set X-Forwarded-* (see DJANGO_TRUST_X_FORWARDED_PROTO).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
# Long request lines are refused rather than logged in part.
limit_request_line = 8190


def post_fork(server, worker):
    # gunicorn's own error log names the full URI when a request fails inside the worker.
    import logging

    from config.log_filters import StripQueryStringFilter

    logging.getLogger("gunicorn.error").addFilter(StripQueryStringFilter())
