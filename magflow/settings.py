"""Settings for MagFlow eMAG Sync: one module, driven by the environment (12-factor).

Every variable is listed with its meaning in `.env.example`. A `.env` file next to
`manage.py` is read first; real environment variables win over it. Without
`DATABASE_URL` and `CELERY_BROKER_URL` the app runs embedded: SQLite plus a broker
on the filesystem, so a fresh machine needs no server.
"""

import os
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar, overload

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Copy KEY=VALUE lines of a .env file into os.environ without overriding it."""
    if not path.is_file():
        return
    for raw_line in path.read_text(encoding="utf-8").splitlines():
        line = raw_line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key, value)


if os.environ.get("MAGFLOW_SKIP_DOTENV") != "1":
    _load_dotenv(BASE_DIR / ".env")


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    """Return the variable's value, or the default when it is unset or empty."""
    value = os.environ.get(name, "")
    return value if value != "" else default


def env_bool(name: str, default: bool) -> bool:
    """Return a boolean variable; anything but a clear yes or no is an error."""
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


# int or float: env_int and env_float differ only in the parser and the word in the error.
_Number = TypeVar("_Number", int, float)


def _env_number(
    name: str,
    default: _Number,
    parse: Callable[[str], _Number],
    kind: str,
    minimum: _Number | None,
) -> _Number:
    """Return a numeric variable read by `parse` (int or float), checked against the minimum."""
    value = env_str(name)
    if value is None:
        return default
    try:
        number = parse(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {kind}, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    """Return an integer variable, rejecting non-numbers and values below the minimum."""
    return _env_number(name, default, int, "an integer", minimum)


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    """Return a decimal-number variable, rejecting non-numbers and values below the minimum."""
    return _env_number(name, default, float, "a number", minimum)


def env_rate(name: str, default: str) -> str:
    """Return a DRF throttle rate ("10/minute"), refusing anything DRF could not parse."""
    value = env_str(name, default) or default
    count, _, period = value.partition("/")
    if not count.strip().isdigit() or not period.strip() or period.strip()[0] not in "smhd":
        raise ImproperlyConfigured(
            f"{name} must look like 10/minute (per second, minute, hour or day), got {value!r}"
        )
    return f"{int(count)}/{period.strip()}"


def env_list(name: str, default: str) -> list[str]:
    """Return a comma-separated variable as a list of trimmed, non-empty items."""
    return [item.strip() for item in (env_str(name, default) or "").split(",") if item.strip()]


# --- Django -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
# Production mode (DEBUG=0) has no default secrets: a missing one stops the start-up.
SECRET_KEY = env_str("SECRET_KEY") or (
    "django-insecure-local-development-key-only-for-debug-mode" if DEBUG else None
)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "corsheaders",
    # The offers' Import (CSV/XLSX) preview and run; rows are written by emag_sync's services.
    "import_export",
    "emag_sync",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, so preflight requests are answered (see CORS_ALLOWED_ORIGINS).
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After the session, before CommonMiddleware (Django's order): the cookie, then the browser.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "magflow.urls"
WSGI_APPLICATION = "magflow.wsgi.application"

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
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Romanian and English. A person's language is, in order: their own choice (the switch in the
# admin header, kept in a cookie), their browser's (LocaleMiddleware), then LANGUAGE_CODE.
# Machine outputs (--json, CSV headers, enum values, webhook keys, the OpenAPI schema) never
# change with it. A new language needs only its catalogue under locale/ and a line here.
LANGUAGES = [("ro", "Română"), ("en", "English")]
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "ro")
if LANGUAGE_CODE not in {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(code for code, _ in LANGUAGES)}, "
        f"got {LANGUAGE_CODE!r}"
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our overrides of Django's per-language formats (English dates in ISO order).
FORMAT_MODULE_PATH = ["magflow.formats"]
LANGUAGE_COOKIE_NAME = "magflow_language"
# A year: the choice outlives the session (which ends at logout).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Database ---------------------------------------------------------------------------------
# PostgreSQL in production (DATABASE_URL=postgres://...); SQLite otherwise. SQLite runs in WAL
# mode with IMMEDIATE transactions, so concurrent writers queue on the busy timeout instead of
# failing with "database is locked" half-way through a transaction.

SQLITE_PATH = Path(env_str("SQLITE_PATH", str(BASE_DIR / "var" / "db.sqlite3")))
_SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": env_int("SQLITE_BUSY_TIMEOUT", 30, minimum=20),
}

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # An unreachable server must fail fast, so /health answers 503 instead of hanging.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH)}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["ENGINE"] = "magflow.sqlite3"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")}
    if sqlite3.sqlite_version_info < (3, 35):
        raise ImproperlyConfigured("SQLite 3.35 or newer is required (RETURNING on upserts).")

# --- Redis, Celery ----------------------------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")

# Seconds Redis waits for a task's acknowledgement before handing it to another worker.
REDIS_VISIBILITY_TIMEOUT = 7200
_CELERY_DIR = Path(env_str("CELERY_FILESYSTEM_DIR", str(BASE_DIR / "var" / "celery")))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport made atomic (magflow/broker.py). It has no
    # acknowledgements: a task lost with a crashed worker is failed by the reaper once the
    # broker no longer holds it, and the next run resumes from the stream's checkpoint.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_CELERY_DIR / "queue"),
        "data_folder_out": str(_CELERY_DIR / "queue"),
        "processed_folder": str(_CELERY_DIR / "processed"),
        # kombu's default is "control" in the current directory, i.e. inside the checkout.
        "control_folder": str(_CELERY_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_CELERY_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    # Long offer syncs must finish (or hit their hard time limit) well inside this window,
    # or Redis hands the unacknowledged task to another worker.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": REDIS_VISIBILITY_TIMEOUT}
CELERY_TASK_IGNORE_RESULT = True
# No result backend, so nothing to expire: without this, beat adds a `celery.backend_cleanup`
# entry to the schedule that would clean nothing.
CELERY_RESULT_EXPIRES = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Syncs are long: a worker reserves one message per process, so no message waits behind a
# long sync while another worker (or process) is idle.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Syncs are single-flight and checkpointed: on a broker blip a running sync finishes (its
# late acknowledgement may fail and the message come back later, to find the work done),
# rather than being cancelled for a redelivery Redis makes only after the visibility timeout.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_DEFAULT_QUEUE = "emag_orders"
# Offer syncs are long; orders, acknowledge and health checks must never wait behind them.
# Cleanup is short (batched deletes) and shares the quick queue.
CELERY_TASK_ROUTES = {
    "emag_sync.sync_products": {"queue": "emag_offers"},
    "emag_sync.sync_orders": {"queue": "emag_orders"},
    # Pushes are short (a batch of 50 offers per request) and a seller waits for them.
    "emag_sync.push_offers": {"queue": "emag_orders"},
    "emag_sync.acknowledge_orders": {"queue": "emag_orders"},
    "emag_sync.health_check": {"queue": "emag_orders"},
    "emag_sync.cleanup": {"queue": "emag_orders"},
}

# Soft time limits of the sync tasks, in seconds. At the soft limit a run stops, keeps its
# checkpoint and frees its claim (status partial); the hard limit, a little later, kills
# the process if even that hangs. Both stay below the broker's visibility timeout, or
# Redis would hand a still-running task to a second worker.
SYNC_OFFERS_TIME_LIMIT = env_int("SYNC_OFFERS_TIME_LIMIT", 3000, minimum=10)
SYNC_ORDERS_TIME_LIMIT = env_int("SYNC_ORDERS_TIME_LIMIT", 240, minimum=10)
SYNC_HARD_TIME_LIMIT_GRACE = 120
if (
    max(SYNC_OFFERS_TIME_LIMIT, SYNC_ORDERS_TIME_LIMIT) + SYNC_HARD_TIME_LIMIT_GRACE
    >= REDIS_VISIBILITY_TIMEOUT
):
    raise ImproperlyConfigured(
        "SYNC_OFFERS_TIME_LIMIT and SYNC_ORDERS_TIME_LIMIT (plus "
        f"{SYNC_HARD_TIME_LIMIT_GRACE} s) must stay below the broker's visibility timeout "
        f"({REDIS_VISIBILITY_TIMEOUT} s)"
    )

# Daily entries of the default schedule (full sync, cleanup) run at night on the sellers'
# wall clock; sub-daily entries run in UTC, so a daylight-saving change never skips or
# repeats them. See `python manage.py setup_periodic_tasks`.
SCHEDULE_TIMEZONE = env_str("SCHEDULE_TIMEZONE", "Europe/Bucharest")
# The predecessor's switch: false creates the offer sync entries disabled on a fresh database.
EMAG_ENABLE_SCHEDULED_SYNC = env_bool("EMAG_ENABLE_SCHEDULED_SYNC", True)

# --- eMAG -------------------------------------------------------------------------------------
# Accounts are configuration: EMAG_ACCOUNTS lists their names, and each name NAME reads
# EMAG_<NAME>_USERNAME, _PASSWORD, _API_URL, _TIMEZONE and _FULFILLMENT.
# See emag_sync/accounts.py.

EMAG_ACCOUNTS = env_list("EMAG_ACCOUNTS", "main,fbe")
EMAG_DEFAULT_API_URL = "https://marketplace-api.emag.ro/api-3"
EMAG_TIMEOUT = env_float("EMAG_TIMEOUT", 30.0, minimum=1.0)
EMAG_MAX_RETRIES = env_int("EMAG_MAX_RETRIES", 5, minimum=0)
EMAG_RETRY_MAX_WAIT = env_float("EMAG_RETRY_MAX_WAIT", 30.0, minimum=0.0)
# A call stops retrying once it has spent this long (answers, waits, backoff): with the
# timeout, it bounds how long one call can try an eMAG that is down.
EMAG_RETRY_DEADLINE = env_float("EMAG_RETRY_DEADLINE", 60.0, minimum=0.0)
# Seconds a run waits before reading again the pages that failed after their retries.
EMAG_SECOND_CHANCE_PAUSE = env_float("EMAG_SECOND_CHANCE_PAUSE", 10.0, minimum=0.0)
EMAG_PAGE_CONCURRENCY = env_int("EMAG_PAGE_CONCURRENCY", 3, minimum=1)
EMAG_RATE_LIMIT = env_bool("EMAG_RATE_LIMIT", True)
EMAG_ORDERS_INITIAL_DAYS = env_int("EMAG_ORDERS_INITIAL_DAYS", 90, minimum=1)
# Minutes an incremental order sync re-reads before its cursor, for orders eMAG makes visible
# a little after their `modified` time; widened to cover the repeated hour when daylight
# saving ends (see emag_sync/services/order_windows.py).
EMAG_ORDERS_OVERLAP_MINUTES = env_int("EMAG_ORDERS_OVERLAP_MINUTES", 10, minimum=0)

# --- Sync engine ------------------------------------------------------------------------------

# A running sync whose heartbeat is older than this is declared dead, and its claim freed.
SYNC_REAP_AFTER = env_int("SYNC_REAP_AFTER", 60, minimum=2)
SYNC_HEARTBEAT_INTERVAL = max(1.0, SYNC_REAP_AFTER / 6)
# Seconds a queued run waits before the workers' reaper asks the broker about its task message.
SYNC_QUEUED_GRACE = env_int("SYNC_QUEUED_GRACE", 90, minimum=1)
# The predecessor's EMAG_MAIN_LOG_RETENTION stands in when SYNC_LOG_RETENTION_DAYS is unset.
SYNC_LOG_RETENTION_DAYS = env_int(
    "SYNC_LOG_RETENTION_DAYS", env_int("EMAG_MAIN_LOG_RETENTION", 30, minimum=1), minimum=1
)
SYNC_CHANGE_RETENTION_DAYS = env_int("SYNC_CHANGE_RETENTION_DAYS", 365, minimum=1)
# A stream whose last successful sync is older than this is stale, and alerted once.
SYNC_STALE_AFTER_MINUTES = {
    "offers": env_int("SYNC_STALE_OFFERS_MINUTES", 180, minimum=1),
    "orders": env_int("SYNC_STALE_ORDERS_MINUTES", 30, minimum=1),
    "acknowledge": env_int("SYNC_STALE_ACKNOWLEDGE_MINUTES", 60, minimum=1),
    # Pushes run only when there is something to send: never judged stale, only by outcome.
}
# Seconds between a local edit's commit and the push it queues: edits made together (a bulk
# change, a form of several fields) go in one push.
PUSH_AFTER_EDIT_SECONDS = env_float("PUSH_AFTER_EDIT_SECONDS", 2.0, minimum=0.0)
# False: an edit only waits in the outbox for the scheduled push (every minute).
PUSH_ON_EDIT = env_bool("PUSH_ON_EDIT", True)

# --- Alerts -----------------------------------------------------------------------------------
# A failed or partial run, a stale stream or an unreachable account is logged as an ERROR and
# sent once per incident to ADMINS by e-mail and, when set, to ALERT_WEBHOOK_URL as JSON.

ALERT_WEBHOOK_URL = env_str("ALERT_WEBHOOK_URL")
ALERT_WEBHOOK_TIMEOUT = env_float("ALERT_WEBHOOK_TIMEOUT", 5.0, minimum=0.5)
ADMINS = [(email, email) for email in env_list("ADMINS", "")]
SERVER_EMAIL = env_str("SERVER_EMAIL", "magflow@localhost")
DEFAULT_FROM_EMAIL = SERVER_EMAIL
EMAIL_SUBJECT_PREFIX = "[MagFlow] "
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10

# --- Metrics ----------------------------------------------------------------------------------
# Prometheus scrapes /metrics on the web with `Authorization: Bearer <METRICS_TOKEN>`; unset,
# /metrics answers 404 in production mode and only loopback clients in DEBUG mode (make run).
# A worker started with METRICS_WORKER_PORT serves its own counters there (same token rule).
# PROMETHEUS_MULTIPROC_DIR (read by prometheus_client itself) is the folder the processes of one
# host share; the process that starts them empties it (scripts/run.py, the docker entrypoint).

METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_WORKER_PORT = env_int("METRICS_WORKER_PORT", 0, minimum=0)

# --- Cache -----------------------------------------------------------------------------------
# The API's throttles count requests in the cache. With Redis configured the count is shared by
# every web process; otherwise each process counts alone, which is enough for the embedded
# single-process server.

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "magflow",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- REST API ---------------------------------------------------------------------------------
# /api/v2 (the API) and /api/v1 (the predecessor's contract, emag_sync/api/v1/): JWT for
# scripts, the session for the admin and the Swagger UI. See emag_sync/api/.

# Throttle rates (emag_sync/api/throttles.py): sync triggers and connection tests per user,
# login attempts per username or email and per client address.
API_THROTTLE_SYNC = env_rate("API_THROTTLE_SYNC", "10/minute")
API_THROTTLE_LOGIN = env_rate("API_THROTTLE_LOGIN", "5/minute")
API_THROTTLE_LOGIN_IP = env_rate("API_THROTTLE_LOGIN_IP", "30/minute")
# Proxies in front of the web server that append to X-Forwarded-For. 0 counts the connecting
# address, so a client cannot dodge the per-address login throttle with a made-up header.
API_NUM_PROXIES = env_int("API_NUM_PROXIES", 0, minimum=0)
# Origins of a front end served elsewhere that may call the API from a browser, e.g. the
# predecessor's React page at http://localhost:5173 (django-cors-headers). Empty (the default):
# no CORS header at all, so browsers keep every other origin out.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/"
# That page sends its requests with credentials (axios withCredentials); tokens still decide.
CORS_ALLOW_CREDENTIALS = True

REST_FRAMEWORK = {
    # JWT first: its WWW-Authenticate header turns a missing login into 401, not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["emag_sync.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "NUM_PROXIES": API_NUM_PROXIES,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    # Short-lived access tokens: simplejwt cannot revoke one before it expires.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_TOKEN_MINUTES", 15, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=env_int("JWT_REFRESH_TOKEN_HOURS", 24, minimum=1)),
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MagFlow eMAG Sync API",
    "DESCRIPTION": (
        "A local mirror of eMAG Marketplace offers and orders. Log in with POST "
        "/api/v2/auth/login and send the access token as `Authorization: Bearer <token>`."
    ),
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # A stale token in the browser must not lock anyone out of the documentation.
    "SERVE_AUTHENTICATION": [],
    # /api/v2 unless a view or `spectacular --urlconf` names another (v1's schema).
    "DEFAULT_GENERATOR_CLASS": "emag_sync.api.openapi.ApiSchemaGenerator",
    # Both versions: operation ids and tags leave the version out.
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # The Swagger UI's files come from the sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "SyncStatusEnum": "emag_sync.models.SyncStatus",
        "SyncModeEnum": "emag_sync.models.SyncMode",
        # The order sync request's own modes; unnamed, they took SyncModeEnum's name and the
        # runs' mode (full, incremental, selective) was described with them.
        "OrderSyncModeEnum": [
            ("incremental", "incremental"),
            ("full", "full"),
            ("historical", "historical"),
        ],
        "ConflictStrategyEnum": "emag_sync.models.ConflictStrategy",
        "ConflictStatusEnum": "emag_sync.models.ConflictStatus",
        "OrderStatusEnum": "emag_sync.models.OrderStatus",
        "HealthStatusEnum": "emag_sync.models.health.HealthStatus",
    },
}

# --- Security ---------------------------------------------------------------------------------

# Content-Security-Policy (django-csp 4), sent in both modes so a violation shows up while
# developing; Django's debug pages (404 and 500 with DEBUG=1) go without it. Scripts, styles,
# fonts and fetches come from this site only: the admin, the dashboard's script and the Swagger
# UI (its files from drf-spectacular-sidecar, its start-up script a separate file) need nothing
# else: no inline script, style block or style attribute anywhere (the dashboard's colours are
# stylesheet classes and its script sets progress widths). Swagger UI draws its icons from
# data: URIs. See https://django-csp.readthedocs.io/.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-elem": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Where browsers POST violation reports (optional; any collector of CSP reports).
_csp_report_uri = env_str("CSP_REPORT_URI")
if _csp_report_uri:
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [_csp_report_uri]

# Production mode (DEBUG=0): HTTPS only, HSTS, cookies that never travel over plain HTTP.
# `manage.py check --deploy --fail-level WARNING` is clean with these (tests/test_security_settings.py).
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers, monitors and Prometheus call /health and /metrics over plain HTTP inside
    # the network.
    SECURE_REDIRECT_EXEMPT = [r"^health$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"

# --- Logging ----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"urllib3": {"level": "WARNING"}},
}
