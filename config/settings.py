"""All configuration, read from the environment here and nowhere else.

With nothing set this is the embedded default: SQLite, local-memory
cache, Celery eager, local pose analyzer, DEBUG on. Production sets DEBUG=false,
SECRET_KEY, DATABASE_URL, REDIS_URL and friends (see .env.example).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
import orjson
from django.core.exceptions import ImproperlyConfigured

from config.dev_secret import dev_secret_key
from config.env import env_bool, env_float, env_int, env_list, env_str
from config.oidc import distinct_issuers, oidc_provider
from config.storage import storage_image_sources

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production (DEBUG=false) needs a long random SECRET_KEY; "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
        )
    # Development only: a random key per checkout, kept so sessions survive restarts of `make run`.
    SECRET_KEY = dev_secret_key(BASE_DIR / ".dev-secret-key")

# Error reports (the DEBUG page, error e-mails) also hide passwords inside URLs.
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.error_reports.UrlPasswordSafeFilter"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.apps.CoachAdminConfig",  # django.contrib.admin with the staff reports
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc as static files, no CDN
    "csp",
    "drf_standardized_errors",
    "django_celery_results",
    "django_celery_beat",
    "accounts",
    "playlists",
    "analyses",
    "budgets",
    "coaching",
]

MIDDLEWARE = [
    "config.request_id.RequestIdMiddleware",
    "config.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Web server (config/gunicorn.py for `make serve`, config/run.py for `make run`) ---------------

HOST = env_str("HOST", "127.0.0.1")
PORT = env_int("PORT", 8000)
WEB_WORKERS = env_int("WEB_WORKERS", 3)  # processes
# Threads per process running Django for HTTP requests whose body has arrived (config/serving.py);
# more requests wait their turn in the event loop. WebSocket connections hold no thread. Each
# process is bound by its GIL: more threads only add contention (docs/benchmarks.md).
WEB_THREADS = env_int("WEB_THREADS", 2)
# Threads per process for long-polls (GET analyses/{id}/?wait=N), apart from the others.
WEB_LONG_POLL_THREADS = env_int("WEB_LONG_POLL_THREADS", 32)
# Proxies whose X-Forwarded-For/-Proto are believed: comma-separated addresses, "*" for any.
FORWARDED_ALLOW_IPS = env_str("FORWARDED_ALLOW_IPS", "")
# A body still incomplete after this long is refused (408); it holds no thread while it arrives.
REQUEST_BODY_TIMEOUT_SECONDS = env_float("REQUEST_BODY_TIMEOUT_SECONDS", 30.0)

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

# --- Database ---------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
# The web server runs Django in persistent threads (config/serving.py) and Celery in persistent
# processes, so both keep per-thread connections (DB_CONN_MAX_AGE). DB_POOL=true uses a psycopg
# pool per process instead (sized to WEB_THREADS), for deployments that need one.
DB_POOL = env_bool("DB_POOL", False)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=0 if DB_POOL else env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=True,  # with the pool: each connection is checked when taken from it
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DB_SERVER_SIDE_BINDING", True):
        # Server-side parameters let psycopg prepare a query the fifth time a connection runs it:
        # PostgreSQL then skips planning, which cost more than running the API's short queries
        # against the analyses table's many indexes (docs/benchmarks.md).
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=env_int("DB_PREPARE_THRESHOLD", 5)
        )
    if DB_POOL:
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": WEB_THREADS + 2,
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # A handful of dancers at once: readers never wait for the writer (WAL), a write takes
            # the lock when its transaction begins (IMMEDIATE, so it cannot fail on upgrading a
            # read lock), and a second writer waits for it instead of failing.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also rate limits and locks) ---------------------------------------

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "dc"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": env_float("REDIS_CONNECT_TIMEOUT", 0.5),
                "SOCKET_TIMEOUT": env_float("REDIS_SOCKET_TIMEOUT", 0.5),
                # A Redis outage degrades (no cache, rate limits open) instead of failing requests.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dancecoach"}}
# What one process keeps for itself a short while (analyses.services.videos): local memory, never shared.
CACHES["process"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "process",
    "OPTIONS": {"MAX_ENTRIES": 2000},
}

# --- Channel layer (live analysis status over WebSocket) --------------------------------------

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CACHE_KEY_PREFIX", "dc") + ":ws", "expiry": 60},
        }
    }
else:
    # One process (the embedded default runs tasks eagerly in the web process), so memory suffices.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Auth ----------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ACCESS_TOKEN_MINUTES = env_int("ACCESS_TOKEN_MINUTES", 15)
REFRESH_TOKEN_DAYS = env_int("REFRESH_TOKEN_DAYS", 14)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Tokens carry a digest of the password hash: a new password ends every earlier token at once.
    "CHECK_REVOKE_TOKEN": True,
}

# --- Sign-in from hosted identity providers (docs/sign-in.md) -----------------------

# One provider per OIDC_ISSUER, more as OIDC_2_ISSUER … OIDC_9_ISSUER with the same suffixes.
# None configured: the feature is off and only our own tokens are accepted.
OIDC_PROVIDERS = distinct_issuers(
    [
        oidc_provider(
            prefix=prefix,
            issuer=env_str(f"{prefix}ISSUER"),
            audiences=env_list(f"{prefix}AUDIENCE", []),
            authorized_parties=env_list(f"{prefix}AUTHORIZED_PARTIES", []),
            jwks_url=env_str(f"{prefix}JWKS_URL"),
            algorithms=env_list(f"{prefix}ALGORITHMS", ["RS256", "ES256"]),
            claim_namespace=env_str(f"{prefix}CLAIM_NAMESPACE"),
        )
        for prefix in ["OIDC_", *(f"OIDC_{n}_" for n in range(2, 10))]
        if env_str(f"{prefix}ISSUER")
    ]
)
OIDC_LEEWAY_SECONDS = env_int("OIDC_LEEWAY_SECONDS", 30)
OIDC_JWKS_TIMEOUT_SECONDS = env_float("OIDC_JWKS_TIMEOUT_SECONDS", 3.0)
OIDC_JWKS_CACHE_SECONDS = env_int("OIDC_JWKS_CACHE_SECONDS", 3600)
# Off: a verified email equal to a local account's makes a separate account, not a takeover.
OIDC_LINK_BY_EMAIL = env_bool("OIDC_LINK_BY_EMAIL", False)

# --- REST framework ------------------------------------------------------------

REST_FRAMEWORK = {
    # Our own tokens first; a token from a configured identity provider falls through to the second.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.oidc.authentication.LocalJWTAuthentication",
        "accounts.oidc.authentication.ExternalJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson: datetimes and UUIDs natively, "Z" for UTC as DRF writes it, int keys as strings.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_UTC_Z, orjson.OPT_NON_STR_KEYS),
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["config.throttling.DefaultThrottle"],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
DRF_STANDARDIZED_ERRORS = {
    "EXCEPTION_HANDLER_CLASS": "config.errors.ApiExceptionHandler",
    # Same JSON shape for unexpected errors even with DEBUG on.
    "ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True,
    "ALLOWED_ERROR_STATUS_CODES": ["400", "401", "403", "404", "405", "406", "413", "415", "429", "500", "503"],
    "ERROR_SCHEMAS": {
        "401": "config.openapi.ErrorResponse401Serializer",
        "413": "config.openapi.ErrorResponse413Serializer",
        "503": "config.openapi.ErrorResponse503Serializer",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Dance coach API",
    "DESCRIPTION": (
        "Backend of the AI dance coach: accounts, videos, playlists, practice sessions and analyses. "
        "Authenticate with `Authorization: Bearer <access_token>`. Every error has the shape "
        "`{type, errors: [{code, detail, attr}]}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "accounts.models.Language.choices",
        "ProviderEnum": "analyses.models.Provider.choices",
        "PartEnum": "analyses.stats.BODY_PARTS",  # the stats' and the coaching reports' body parts
        "DataExportStatusEnum": "accounts.models.DataExportStatus.choices",
        # The analyses' status keeps its name beside the exports' (issue 18).
        "StatusEnum": "analyses.models.Analysis.Status",
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "config.openapi.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        "ErrorCode413Enum": "config.openapi.ErrorCode413Enum.choices",
        "ErrorCode503Enum": "config.openapi.ErrorCode503Enum.choices",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_standardized_errors.openapi_hooks.postprocess_schema_enums",
        "config.openapi.postprocess_list_index_attrs",
    ],
}

# --- Rate limits (django-ratelimit counters in the cache) ------------------------

RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
# When the cache is unreachable the limits open rather than
# lock every user out; the outage is logged by django-redis.
RATELIMIT_FAIL_OPEN = True
RATE_LIMITS = {
    "default_user": env_str("RATELIMIT_DEFAULT_USER", "100/m"),
    "default_anon": env_str("RATELIMIT_DEFAULT_ANON", "100/m"),
    # Failed logins (config/throttling.py): per email and IP, per IP, and a higher ceiling per email.
    "login_email_ip": env_str("RATELIMIT_LOGIN_EMAIL_IP", "5/5m"),
    "login_ip": env_str("RATELIMIT_LOGIN_IP", "20/10m"),
    "login_email": env_str("RATELIMIT_LOGIN_EMAIL", "30/5m"),
    "register_ip": env_str("RATELIMIT_REGISTER_IP", "10/h"),
    "analysis_user": env_str("RATELIMIT_ANALYSIS_USER", "40/m"),
    "data_export_user": env_str("RATELIMIT_DATA_EXPORT_USER", "5/h"),
}
# Behind a trusted proxy set this to the header it fills (e.g. HTTP_X_REAL_IP).
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY") or None

# --- Bodies and frames -----------------------------------------------------------

DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 8 * 1024 * 1024)
FRAME_MAX_BYTES = env_int("FRAME_MAX_BYTES", 5 * 1024 * 1024)
FRAME_MAX_PIXELS = env_int("FRAME_MAX_PIXELS", 4096 * 4096)
# A progressive JPEG is decoded once per scan: encoders write about ten, scan bombs thousands.
FRAME_JPEG_MAX_SCANS = env_int("FRAME_JPEG_MAX_SCANS", 32)
FRAME_GEMINI_MAX_SIDE = env_int("FRAME_GEMINI_MAX_SIDE", 768)
REFERENCE_UPLOAD_MAX_BYTES = env_int("REFERENCE_UPLOAD_MAX_BYTES", 40 * 1024 * 1024)
# The server's own bound on any body: the largest an endpoint takes (checked before Django reads it).
REQUEST_BODY_MAX_BYTES = max(DATA_UPLOAD_MAX_MEMORY_SIZE, REFERENCE_UPLOAD_MAX_BYTES)
FRAME_RETENTION_DAYS = env_int("FRAME_RETENTION_DAYS", 30)
# A dancer's `keep_frames` when their account is made; off, each frame goes once its analysis is final.
KEEP_FRAMES_DEFAULT = env_bool("KEEP_FRAMES_DEFAULT", True)
# Deleting an account from a hosted sign-in (no password here) needs a provider token at most this old.
ACCOUNT_DELETE_TOKEN_MAX_AGE_SECONDS = env_int("ACCOUNT_DELETE_TOKEN_MAX_AGE_SECONDS", 300)
DATA_EXPORT_EXPIRY_HOURS = env_int("DATA_EXPORT_EXPIRY_HOURS", 24)

# --- Analysis ---------------------------------------------------------------------

GEMINI_API_KEY = env_str("GEMINI_API_KEY")
GEMINI_MODEL = env_str("GEMINI_MODEL", "gemini-3.8-flash")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL") or None
GEMINI_TIMEOUT_SECONDS = env_float("GEMINI_TIMEOUT_SECONDS", 30.0)
GEMINI_PRICE_INPUT_PER_MTOK = env_float("GEMINI_PRICE_INPUT_PER_MTOK", 0.30)
GEMINI_PRICE_OUTPUT_PER_MTOK = env_float("GEMINI_PRICE_OUTPUT_PER_MTOK", 2.50)
POSE_TOLERANCE_SECONDS = env_float("POSE_TOLERANCE_SECONDS", 1.0)
POSE_VISIBILITY_THRESHOLD = env_float("POSE_VISIBILITY_THRESHOLD", 0.5)
ANALYSIS_MAX_ATTEMPTS = env_int("ANALYSIS_MAX_ATTEMPTS", 5)
ANALYSIS_RETRY_BACKOFF_SECONDS = env_float("ANALYSIS_RETRY_BACKOFF_SECONDS", 2.0)
ANALYSIS_RETRY_BACKOFF_MAX_SECONDS = env_float("ANALYSIS_RETRY_BACKOFF_MAX_SECONDS", 60.0)
ANALYSIS_STUCK_AFTER_SECONDS = env_int("ANALYSIS_STUCK_AFTER_SECONDS", 300)
# A submission's live event and broker publish run after its commit on a background thread of the
# web process, not on the request's (ignored in eager mode, where the response carries the result).
ANALYSIS_DISPATCH_IN_BACKGROUND = env_bool("ANALYSIS_DISPATCH_IN_BACKGROUND", True)
ANALYSIS_RESULT_CACHE_SECONDS = env_int("ANALYSIS_RESULT_CACHE_SECONDS", 7 * 24 * 3600)
REFERENCE_CONTEXT_CACHE_SECONDS = env_int("REFERENCE_CONTEXT_CACHE_SECONDS", 30 * 24 * 3600)
REFERENCE_BUCKET_SECONDS = env_float("REFERENCE_BUCKET_SECONDS", 1.0)
ANALYSIS_WAIT_MAX_SECONDS = 30
# Long-polls (GET analyses/{id}/?wait=N) one dancer may hold at once; more get a 429.
ANALYSIS_WAITS_PER_USER = env_int("ANALYSIS_WAITS_PER_USER", 4)
# A submission without session_id joins the dancer's session of that video while its last
# analysis is this recent; a session idle longer counts as ended (at its last analysis).
PRACTICE_SESSION_IDLE_MINUTES = env_int("PRACTICE_SESSION_IDLE_MINUTES", 10)

# --- AI budget (budgets app; the admin's values win over these; unset: no cap) ------------

AI_BUDGET_DAILY_USD = env_float("AI_BUDGET_DAILY_USD", None)
AI_BUDGET_MONTHLY_USD = env_float("AI_BUDGET_MONTHLY_USD", None)
AI_BUDGET_USER_DAILY_CALLS = env_int("AI_BUDGET_USER_DAILY_CALLS", None)
AI_BUDGET_CALL_ESTIMATE_USD = env_float("AI_BUDGET_CALL_ESTIMATE_USD", 0.002)
AI_BREAKER_OPEN_AFTER_SECONDS = env_float("AI_BREAKER_OPEN_AFTER_SECONDS", 180.0)
AI_BREAKER_PROBE_SECONDS = env_float("AI_BREAKER_PROBE_SECONDS", 30.0)

# --- Playlists --------------------------------------------------------------------

PLAYLIST_NAME_MAX_LENGTH = env_int("PLAYLIST_NAME_MAX_LENGTH", 100)
PLAYLIST_MAX_ITEMS = env_int("PLAYLIST_MAX_ITEMS", 500)
PLAYLISTS_PER_USER_MAX = env_int("PLAYLISTS_PER_USER_MAX", 100)

# --- Celery -------------------------------------------------------------------------

# Eager (in-process) unless a broker is configured; tests and `make run` need no worker.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = "django-db"
CELERY_CACHE_BACKEND = "django-cache"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Don't lose or loop tasks: ack after the work, requeue if the worker dies,
# take one task at a time, bound every task, and keep the broker's redelivery later
# than the hard limit so a slow task is never handed out twice while still running.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 90)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 120)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 4)
# SIGTERM is a warm shutdown (tasks in flight finish, within the time limits). If the broker
# connection drops, tasks in flight are cancelled rather than finished unacked: the broker
# redelivers them, and the row's claim keeps a second run from doubling the work.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "recover-stuck-analyses": {"task": "analyses.recover_stuck", "schedule": 60.0},
    "purge-frames": {"task": "analyses.purge_frames", "schedule": 24 * 3600.0},
    "end-idle-sessions": {"task": "analyses.end_idle_sessions", "schedule": 300.0},
    "account-files-cleanup": {"task": "accounts.files_cleanup", "schedule": 600.0},
}

# --- CORS and security ------------------------------------------------------------

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", ["http://localhost:5173", "http://localhost:3000"])
CORS_ALLOW_CREDENTIALS = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page (the admin, Swagger UI, ReDoc) loads scripts from this server only, and none inline.
# Inline styles stay allowed: the admin's templates and both documentation bundles set them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Health checks come over plain HTTP from the orchestrator.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]

# --- i18n, static, media ------------------------------------------------------------

LANGUAGE_CODE = "en-us"
# The app's languages (accounts.models.Language); also bounds the schema's per-language cache.
LANGUAGES = [("en", "English"), ("ja", "日本語")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATS_DEFAULT_TIME_ZONE = env_str("STATS_DEFAULT_TIME_ZONE", "Asia/Tokyo")
# Leaderboards (coaching app): a session counts with this many completed analyses; boards are cached this long.
LEADERBOARD_MIN_ANALYSES = env_int("LEADERBOARD_MIN_ANALYSES", 5)
LEADERBOARD_CACHE_SECONDS = env_int("LEADERBOARD_CACHE_SECONDS", 60)

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# WhiteNoise serves static files from the app itself (the admin's styles need no web server in
# front). Production serves the collected, hashed, compressed files (Dockerfile runs collectstatic);
# the embedded default serves them straight from the apps (finders, looked up per request).
# The practice page's own modules (frontend/practice, frontend/pose) and MediaPipe Pose, copied from
# the pinned npm package into git-ignored frontend/vendor by `make frontend` (run by `make run`).
STATICFILES_DIRS = [
    (prefix, BASE_DIR / "frontend" / folder)
    for prefix, folder in (("practice", "practice"), ("pose", "pose"), ("mediapipe-pose", "vendor/mediapipe-pose"))
    if (BASE_DIR / "frontend" / folder).is_dir()
]
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# Frames (and anything else stored through Django's storage API): the local filesystem by default;
# S3-compatible object storage (AWS S3, MinIO, ...) through django-storages when a bucket is set, so
# web and workers on different hosts share them. Objects stay private: links are presigned and
# short-lived. botocore retries transient errors itself, within bounded timeouts.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
AWS_S3_ENDPOINT_URL = env_str("AWS_S3_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = env_str("AWS_S3_REGION_NAME") or None
AWS_ACCESS_KEY_ID = env_str("AWS_ACCESS_KEY_ID") or None
AWS_SECRET_ACCESS_KEY = env_str("AWS_SECRET_ACCESS_KEY") or None
AWS_S3_ADDRESSING_STYLE = env_str("AWS_S3_ADDRESSING_STYLE") or None
# Where browsers reach the store when the app reaches it by an inside name (compose: http://minio:9000).
AWS_S3_PUBLIC_ENDPOINT_URL = env_str("AWS_S3_PUBLIC_ENDPOINT_URL") or None
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 300)
STORAGE_TIMEOUT_SECONDS = env_float("STORAGE_TIMEOUT_SECONDS", 10.0)
if AWS_STORAGE_BUCKET_NAME:
    from botocore.config import Config as _BotoConfig

    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": AWS_S3_ENDPOINT_URL,
            "region_name": AWS_S3_REGION_NAME,
            "access_key": AWS_ACCESS_KEY_ID,
            "secret_key": AWS_SECRET_ACCESS_KEY,
            "addressing_style": AWS_S3_ADDRESSING_STYLE,
            "default_acl": None,  # the bucket's own (private) policy, never public-read
            "querystring_auth": True,
            "querystring_expire": AWS_QUERYSTRING_EXPIRE,
            "file_overwrite": False,
            "client_config": _BotoConfig(
                connect_timeout=STORAGE_TIMEOUT_SECONDS,
                read_timeout=STORAGE_TIMEOUT_SECONDS,
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
            ),
        },
    }
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# The admin's frame preview loads presigned links from the object store.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += storage_image_sources(
    bucket=AWS_STORAGE_BUCKET_NAME,
    endpoint=AWS_S3_PUBLIC_ENDPOINT_URL or AWS_S3_ENDPOINT_URL,
    addressing_style=AWS_S3_ADDRESSING_STYLE,
)
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Logging -------------------------------------------------------------------------

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# `json` (one object per line, for log collectors) by default in production, `plain` in development.
# Every line carries the request id (config/request_id.py), in the web process and in the worker.
LOG_FORMAT = env_str("LOG_FORMAT", "plain" if DEBUG else "json")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be 'plain' or 'json', not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.request_id.RequestIdFilter"},
        "no_query": {"()": "config.request_id.QueryStringFilter"},
        "redact": {"()": "config.redaction.RedactFilter"},  # no token, frame or landmark in any line
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "redact"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The web servers' lines (uvicorn's, under `make run` and `make serve`) in the same format.
        **{
            name: {"handlers": ["console"], "filters": ["no_query"], "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    },
}

# --- Tests ------------------------------------------------------------------
# The browser tests drive Debian's Chromium; they skip themselves where it is absent.
CHROMIUM_BINARY = env_str("CHROMIUM_BINARY", "/usr/bin/chromium")
