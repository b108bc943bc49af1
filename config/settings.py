"""Samhandling settings: one env-driven file.

Defaults give the embedded quick start (SQLite, kombu's filesystem broker) only when
DJANGO_DEMO=1 or DJANGO_EMBEDDED=1; production must set SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL,
ALLOWED_HOSTS and SITE_URL, or start-up fails.
"""
import ipaddress
from datetime import timedelta
from email.utils import getaddresses
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False) if (BASE_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Demo mode seeds demo users with known passwords; it is never on unless asked for.
DEMO_MODE = env.bool("DJANGO_DEMO", default=False)
# The embedded defaults (a known secret key, SQLite, the filesystem broker) only in demo mode or
# when asked for by name: DJANGO_DEBUG=1 alone no longer switches them on.
EMBEDDED = env.bool("DJANGO_EMBEDDED", default=DEMO_MODE)

if EMBEDDED:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-demo-key-not-for-production")
else:
    SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set (50+ characters) in production "
            "(DJANGO_EMBEDDED=1 or DJANGO_DEMO=1 for the embedded development settings)."
        )
# DEBUG's error pages show the traceback, the request (a form's person data included) and the
# settings: only on a developer's machine, which says so with the embedded settings (make run's
# demo mode, DJANGO_EMBEDDED=1, also against a local PostgreSQL). A deployment refuses to start.
# A database outage is the static 503 page even under DEBUG (config.middleware).
if DEBUG and not EMBEDDED:
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=1 shows tracebacks with request data: only with the embedded development settings "
        "(DJANGO_EMBEDDED=1 or DJANGO_DEMO=1), never in production."
    )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"] if EMBEDDED else [])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "accounts.apps.SamhandlingAdminConfig",  # django.contrib.admin behind the second factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "accounts.apps.AxesConfig",  # django-axes, named in the user's language
    "accounts",
    "viewflow",
    "viewflow.workflow",
    "org",
    "people",
    "audit",
    "referrals",
    "consent",
    "notifications",
    "workflows",
    "insights",
]

MIDDLEWARE = [
    "config.middleware.HealthCheckMiddleware",  # first: /healthz/ for probes, before the host check
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below whitenoise: static files keep their long cache headers; every page gets these.
    "csp.middleware.CSPMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # Above everything that may touch the database: an outage becomes the static 503 page.
    "config.middleware.DatabaseOutageMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.DefaultLanguageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.AdminNetworkMiddleware",  # /admin/ only from ADMIN_ALLOWED_NETWORKS
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "config.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "viewflow.middleware.SiteMiddleware",
    "viewflow.middleware.HotwireTurboMiddleware",
    "workflows.middleware.FlowObjectAccessMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

STATICFILES_DIRS = [BASE_DIR / "static"]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "notifications.context_processors.unread_notifications",
                "config.context_processors.request_now",
                "config.context_processors.navigation",
                "config.idle.idle_timeout",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}" if EMBEDDED else "")
}
if not DATABASES["default"].get("ENGINE"):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: the pages ask short queries, and PostgreSQL compiled a coordinator's
    # counts (estimated dear for their per-row permission lookups) for 260 ms to run them in 120 ms
    # (bench/bench_referral_lists.py). An "options" given in DATABASE_URL wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Prepared statements for every statement (psycopg's server-side binding; one is prepared on its
    # connection after DB_PREPARE_THRESHOLD runs): off. PostgreSQL then plans a statement once per
    # connection, but after five runs it may keep a generic plan, blind to the values: the
    # coordinator's list filtered by age took 41 ms instead of 3 (bench/bench_national.py). The
    # statements of every page's shell are prepared on their own (org.compiled), where the plan
    # cannot depend on the value.
    if env.bool("DB_PREPARED_STATEMENTS", default=False):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=env.int("DB_PREPARE_THRESHOLD", default=5))
    else:
        # Never by count (psycopg turns an explicit prepare off too when this is None): only the
        # statements org.compiled asks to prepare are. (Either way a pooler in transaction mode,
        # which cannot keep a prepared statement to its connection, is not supported.)
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 2**31 - 1)
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, the two workers and beat share one file in the quick start: wait on locks instead of failing.
    # IMMEDIATE takes the write lock when a transaction begins: a deferred one that reads first and
    # writes later fails at once with "database is locked" when another process writes meanwhile
    # (SQLite cannot wait there without risking a deadlock), which the sweeps and mail workers did.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Login (accounts/): OpenID Connect, the second factor, lockout --------------------------
# OpenID Connect (ID-porten, Entra ID, Feide, HelseID …) through mozilla-django-oidc; on only when a
# client and a provider (discovery document, or explicit endpoints and issuer) are configured.
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_DISCOVERY = env("OIDC_OP_DISCOVERY", default="")  # the issuer URL or its .well-known/openid-configuration
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid profile")
# The claim that identifies the person: pid (ID-porten), oid (Entra ID), sub (Feide, HelseID) …
OIDC_USER_CLAIM = env("OIDC_USER_CLAIM", default="sub")
OIDC_PROVIDER_LABEL = env("OIDC_PROVIDER_LABEL", default="ID-porten")
# Required assurance level(s), space-separated (e.g. idporten-loa-high): asked for, and a login
# whose id token carries another acr is refused.
OIDC_ACR_VALUES = env("OIDC_ACR_VALUES", default="")
# How the client authenticates at the token endpoint: client_secret_post, client_secret_basic, or
# private_key_jwt (HelseID; ID-porten can use it too) with a PEM private key file.
OIDC_RP_CLIENT_AUTH_METHOD = env("OIDC_RP_CLIENT_AUTH_METHOD", default="client_secret_post")
OIDC_RP_PRIVATE_KEY_FILE = env("OIDC_RP_PRIVATE_KEY_FILE", default="")
OIDC_RP_PRIVATE_KEY_ID = env("OIDC_RP_PRIVATE_KEY_ID", default="")
OIDC_RP_CLIENT_ASSERTION_ALGO = env("OIDC_RP_CLIENT_ASSERTION_ALGO", default="RS256")
OIDC_TOKEN_USE_BASIC_AUTH = OIDC_RP_CLIENT_AUTH_METHOD == "client_secret_basic"
if OIDC_RP_CLIENT_AUTH_METHOD not in ("client_secret_post", "client_secret_basic", "private_key_jwt"):
    raise ImproperlyConfigured("OIDC_RP_CLIENT_AUTH_METHOD: client_secret_post, client_secret_basic or private_key_jwt.")
if OIDC_RP_CLIENT_AUTH_METHOD == "private_key_jwt" and not OIDC_RP_PRIVATE_KEY_FILE:
    raise ImproperlyConfigured("OIDC_RP_CLIENT_AUTH_METHOD=private_key_jwt needs OIDC_RP_PRIVATE_KEY_FILE.")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED and not (
    OIDC_OP_DISCOVERY or (OIDC_OP_ISSUER and OIDC_OP_AUTHORIZATION_ENDPOINT and OIDC_OP_TOKEN_ENDPOINT and OIDC_OP_JWKS_ENDPOINT)
):
    raise ImproperlyConfigured(
        "OIDC_RP_CLIENT_ID is set: set OIDC_OP_DISCOVERY, or OIDC_OP_ISSUER and the authorization, token and JWKS endpoints."
    )
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
OIDC_CREATE_USER = False  # a login never creates a user (accounts.oidc.OIDCBackend refuses anyway)
OIDC_TIMEOUT = env.int("OIDC_TIMEOUT", default=10)
OIDC_VERIFY_SSL = True
OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:oidc_callback"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password check
    "django.contrib.auth.backends.ModelBackend",
    *(["accounts.oidc.OIDCBackend"] if OIDC_ENABLED else []),
    "guardian.backends.ObjectPermissionBackend",
]

# A password login needs a TOTP code as well; only demo mode (known demo passwords) goes without.
# Deliberately no environment variable: production cannot switch it off.
REQUIRE_SECOND_FACTOR = not DEMO_MODE
OTP_TOTP_ISSUER = "Samhandling"
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp's throttle on: 1, 2, 4, 8 … seconds after each wrong code

# Lockout after failed logins (django-axes), for the one login page that /admin/ uses too.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "accounts.axes.client_ip"  # REMOTE_ADDR, see the proxy setting
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout"
AXES_WHITELIST_CALLABLE = "accounts.axes.not_a_password_login"  # the OIDC callback
AXES_VERBOSE = False

# /admin/ only from these networks (comma-separated CIDRs); elsewhere it answers 404. Empty: anywhere.
ADMIN_ALLOWED_NETWORKS = [cidr.strip() for cidr in env.list("ADMIN_ALLOWED_NETWORKS", default=[]) if cidr.strip()]
try:
    [ipaddress.ip_network(cidr, strict=False) for cidr in ADMIN_ALLOWED_NETWORKS]
except ValueError as exc:
    raise ImproperlyConfigured(f"ADMIN_ALLOWED_NETWORKS: {exc}") from exc
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norsk bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if EMBEDDED
        else "config.storage.SamhandlingStaticFilesStorage"
    },
}

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend" if EMBEDDED else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
# Only read by django.core.mail.backends.filebased.EmailBackend (one file per sent batch).
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="samhandling@localhost")
# Who is mailed about a server error (500): ADMINS="Ola Drift <drift@kommune.no>,Kari <kari@kommune.no>".
# Empty (the default): nobody, and the 500 page claims no e-mail. The mail carries the log line and the
# traceback's code locations only, no request data (config.error_mail.AdminSummaryEmailHandler).
ADMINS = [(name, address) for name, address in getaddresses(env.list("ADMINS", default=[])) if name or address]
if any("@" not in address for _name, address in ADMINS):
    raise ImproperlyConfigured('ADMINS: comma-separated "Name <address@example.no>" entries.')
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_SUBJECT_PREFIX = "[Samhandling] "
# The absolute base URL of links in e-mails; production must name its own (no localhost links).
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000" if EMBEDDED else "")
if not SITE_URL:
    raise ImproperlyConfigured("SITE_URL must be set in production, e.g. https://samhandling.kommune.no.")

# Security: strict in production, relaxed only where the quick start runs over plain HTTP.
SESSION_COOKIE_HTTPONLY = True
# The absolute lifetime of a login; IdleTimeoutMiddleware ends it sooner after inactivity.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=20)
# The page warns this long before the idle timeout and offers to stay logged in.
SESSION_IDLE_WARNING_SECONDS = env.int("SESSION_IDLE_WARNING_SECONDS", default=120)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not EMBEDDED
CSRF_COOKIE_SECURE = not EMBEDDED
if not EMBEDDED:
    # __Host-: the browser accepts the cookie only over HTTPS, from this host (no Domain), for "/".
    # Plain names in the embedded quick start, which runs over HTTP.
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_PATH = CSRF_COOKIE_PATH = "/"
SESSION_COOKIE_DOMAIN = CSRF_COOKIE_DOMAIN = None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not EMBEDDED)
# X-Forwarded-Proto is trusted only behind a proxy that sets it and drops the client's own: anyone
# can send the header, so trusting it by default would let a plain-HTTP request pass as HTTPS.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 0 if EMBEDDED else env.int("DJANGO_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not EMBEDDED
SECURE_HSTS_PRELOAD = not EMBEDDED
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): no inline script and no eval anywhere, viewflow's pages
# included (they load only script files). A template that truly needs an inline script gives it
# nonce="{{ request.csp_nonce }}"; the nonce enters the header only on such pages. Inline styles
# stay allowed: viewflow's templates and Material components set style attributes throughout.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF, *env.list("DJANGO_CSP_FORM_ACTION", default=[])],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}
# Browser features no page uses; config.middleware.PermissionsPolicyMiddleware sends this.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=(), serial=(), hid=(), "
    "publickey-credentials-get=(self), fullscreen=(self)"
)

# Celery. The quick start uses kombu's filesystem transport: a real broker with no server.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://" if EMBEDDED else "")
if not CELERY_BROKER_URL:
    raise ImproperlyConfigured("CELERY_BROKER_URL must be set in production.")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# Reminders. On PostgreSQL a sweep locks and delivers one row at a time (SKIP LOCKED), so nothing
# waits for a claim. On SQLite a sweep claims a batch: how long a claimed reminder stays claimed
# before another sweep may take it (only a killed sweep leaves its claims to expire; a failing one
# releases them) and how many one claim takes. Either way, how long one sweep goes on before it
# hands on to a fresh one.
REMINDER_CLAIM_SECONDS = env.int("REMINDER_CLAIM_SECONDS", default=120)
# Small batches, claimed one after the other: a sweep that is killed strands at most one batch for
# the claim's length (the fault-injection bench measured the tail that 200 left).
REMINDER_SWEEP_BATCH = env.int("REMINDER_SWEEP_BATCH", default=50)
REMINDER_SWEEP_BUDGET_SECONDS = env.float("REMINDER_SWEEP_BUDGET_SECONDS", default=45.0)
# How many sweeps may run at once (notifications.services.sweep_slot): match the sweeps worker's
# concurrency. A sweep stopped by a database outage tries again after REMINDER_SWEEP_RETRY_SECONDS,
# up to REMINDER_SWEEP_RETRIES times, then leaves it to the next beat tick.
REMINDER_SWEEP_PARALLEL = env.int("REMINDER_SWEEP_PARALLEL", default=2)
REMINDER_SWEEP_RETRY_SECONDS = env.float("REMINDER_SWEEP_RETRY_SECONDS", default=5.0)
REMINDER_SWEEP_RETRIES = env.int("REMINDER_SWEEP_RETRIES", default=12)
# How long a sweep stopped by a database outage keeps trying to release its claims (SQLite).
REMINDER_RELEASE_RETRY_SECONDS = env.float("REMINDER_RELEASE_RETRY_SECONDS", default=30.0)
# E-mail outbox (notifications.models.Email): how long one send attempt holds its e-mail, after
# how many failed attempts it is given up, and the mail server's socket timeout, kept well inside
# the claim so an attempt ends before another may take the e-mail.
EMAIL_CLAIM_SECONDS = env.int("EMAIL_CLAIM_SECONDS", default=120)
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=10)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# Where a mail worker notes an e-mail the mail server accepted while the database could not record
# it (notifications.services.email_send). Every mail worker must see the same directory (one host,
# or a shared volume), or the note cannot stop another host's worker from sending it again.
EMAIL_JOURNAL_DIR = Path(env.str("EMAIL_JOURNAL_DIR", default=str(BASE_DIR / "var" / "mail-journal")))
# Test hook for the reliability tests: pause inside delivery so a worker can be killed there.
REMINDER_DELIVERY_PAUSE_SECONDS = env.float("REMINDER_DELIVERY_PAUSE_SECONDS", default=0.0)

# Emergency access ("break the glass"): the longest one may last, in minutes.
BREAK_GLASS_MAX_MINUTES = env.int("BREAK_GLASS_MAX_MINUTES", default=120)

ERROR_LOG_HANDLER = env("ERROR_LOG_HANDLER", default="")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "strip_query_string": {"()": "config.log_filters.StripQueryStringFilter"},
        "quiet_permission_denied": {"()": "config.log_filters.QuietPermissionDeniedFilter"},
        "quiet_database_outage": {"()": "config.middleware.QuietDatabaseOutageFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"},
        "mail_admins": {"class": "config.error_mail.AdminSummaryEmailHandler", "level": "ERROR"},
        # The error-tracker hook: ERROR_LOG_HANDLER names a logging.Handler class (made without
        # arguments) that receives every ERROR record, e.g. a Sentry or syslog handler (README).
        **({"error_tracker": {"class": ERROR_LOG_HANDLER, "level": "ERROR"}} if ERROR_LOG_HANDLER else {}),
    },
    "root": {
        "handlers": ["console", *(["error_tracker"] if ERROR_LOG_HANDLER else [])],
        "level": env("LOG_LEVEL", default="INFO"),
    },
    # Request logs carry paths only, and paths carry only UUIDs: no identifying data. Query strings
    # (searches) are cut from runserver's request lines here, and from gunicorn's access log by its
    # access_log_format (config/gunicorn.conf.py).
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False, "filters": ["strip_query_string"]},
        # A refused request is one warning line without traceback; real errors keep theirs.
        # A database outage is one line of config.middleware's own (samhandling.outage) instead.
        # Server errors are mailed to ADMINS when set (the handler does nothing without them).
        "django.request": {"handlers": ["mail_admins"], "filters": ["quiet_permission_denied", "quiet_database_outage"]},
        # Django's own records once, through the root's console: Django's default handlers for them
        # (a second console when DEBUG is on, so `make run` printed every line twice; mail to ADMINS,
        # which is not set) are removed.
        "django": {"handlers": [], "level": "INFO"},
    },
}

# The privacy function's access review (audit/selectors.py): more than AUDIT_BURST_READS different
# records read by one user within AUDIT_BURST_MINUTES minutes is listed as a burst.
AUDIT_BURST_READS = env.int("AUDIT_BURST_READS", default=50)
AUDIT_BURST_MINUTES = env.int("AUDIT_BURST_MINUTES", default=10)
