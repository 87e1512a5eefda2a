"""Settings for Xinsheng, read from environment variables.

Local use needs no variables at all: SQLite, debug on, tasks run inline. Production sets
DJANGO_DEBUG=0, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL and CELERY_BROKER_URL
(see .env.example).
"""

import datetime
import os
from fractions import Fraction
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = env_str(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    return int(value) if value else default


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG=0")
    SECRET_KEY = "local-development-only-not-a-secret"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "config.admin_site.AdminConfig",  # Django's admin, its site without the sidebar
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "csp",
    "django_filters",
    "axes",
    "simple_history",
    "renovation",
    "residents",
    "partycells",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Form widgets render through the project's templates, so templates/django/forms/ can
# replace Django's slower ones (the select renders its options inline).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "renovation.context_processors.navigation",
            ],
        },
    },
]

# In production each process keeps its connection for a minute instead of opening one per
# request (a new PostgreSQL connection costs more than most pages' queries); Django checks
# a kept connection before reusing it. Under runserver and the tests, one per request.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The covering indexes of the grid workers' lists (residents.ResidentRequest) carry
    # extra columns on PostgreSQL; SQLite (the demo and quick tests) builds them without.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins per user name and address and refuses them once locked.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading the staff profile with the user on every request.
    "renovation.backends.ProfileModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
AXES_USERNAME_CALLABLE = "config.login.axes_username"

# A working day; a shared office computer should not stay logged in overnight.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files through WhiteNoise (run collectstatic).
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")

# Registry workbooks are small; anything much larger is a wrong file, not a big district.
REGISTRY_IMPORT_MAX_BYTES = env_int("REGISTRY_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Celery: with no broker configured, tasks run inline in the web process.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
# A task whose pool process died (killed for memory, a deploy) goes back to the queue instead
# of being acknowledged as failed; its row is taken back by the retry (renovation.services).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A deployment may give its workers a queue of their own (the end-to-end tests do).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE") or "celery"

# The monthly report's build: its time limits (seconds), and how long a row may stay waiting
# or being built before the sweep queues it again. The deadline is above the hard limit, so
# a build still in time is never taken for a lost one.
REPORT_SOFT_TIME_LIMIT = env_int("REPORT_SOFT_TIME_LIMIT", 600)
REPORT_TIME_LIMIT = env_int("REPORT_TIME_LIMIT", 660)
REPORT_STALE_AFTER = env_int("REPORT_STALE_AFTER", 15 * 60)
REPORT_SWEEP_EVERY = env_int("REPORT_SWEEP_EVERY", 5 * 60)

# A page that queues a task never waits long on a dead or hung broker: a short connect and
# socket timeout and at most one quick retry, then the page says so (about two seconds).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# The visibility timeout is just above the report's hard time limit: a task whose whole
# worker died comes back after it (the sweep usually has queued it again before).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": REPORT_TIME_LIMIT + 60,
    "socket_timeout": 1,
    "socket_connect_timeout": 1,
}
CELERY_BEAT_SCHEDULE = {
    # Last month's joint-meeting workbook, at 02:00 Asia/Shanghai on the 1st.
    "monthly-report": {
        "task": "renovation.tasks.request_previous_month_report",
        "schedule": crontab(minute=0, hour=2, day_of_month=1),
    },
    # Reports left waiting or being built past their deadline are queued again.
    "monthly-report-sweep": {
        "task": "renovation.tasks.requeue_stale_reports",
        "schedule": REPORT_SWEEP_EVERY,
    },
}

# Security. Scripts only from our own files; styles may be inline (the admin uses them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    # Behind nginx, which terminates TLS and sets X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

ADMIN_SITE_HEADER = _("Xinsheng: old-neighbourhood renovation")

# A compound enters the project pipeline when this share of households consents
# ("2/3" or a decimal such as "0.7"); kept as an exact fraction.
WILLINGNESS_THRESHOLD = Fraction(env_str("WILLINGNESS_THRESHOLD") or "2/3")

# The cache holds the public page's rate-limit counters, the dashboard's and the project
# list's figures under the version of the tables they come from (renovation/cache.py), pieces
# of pages keyed by what they show, and a copy of the sessions: per process (locmem) by
# default, shared between gunicorn workers when CACHE_URL points at Redis (redis://...).
# CACHE_KEY_PREFIX: set it to the release on each deployment, so pieces rendered by the
# previous release's templates are not shown (they would otherwise last until they expire,
# ten minutes at most).
#
# A cache that may be lost: everything in it can be worked out again, so a Redis that is
# stopped, hung or full makes a call a miss (IGNORE_EXCEPTIONS), never an error page. A call
# waits a quarter of a second to connect and as long for the answer; once Redis has not
# answered, the process leaves it alone for five seconds (config.redis_cache: one timeout
# per process and interval, not one per cache call of every page) and logs the outage once.
CACHE_URL = env_str("CACHE_URL")
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "REDIS_CLIENT_CLASS": "config.redis_cache.FailFastRedis",
                "REDIS_CLIENT_KWARGS": {"retry_after": 5},
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }
# Sessions are kept in the database; with a cache that every process shares (CACHE_URL) they
# are read from it too, which spares most requests a query (a tenth of a request's time
# under load went to reading the session). Never with the per-process cache: another
# process would keep a session this one ended. The database stays the record: a session is
# written there first, and read from there whenever the cache misses or cannot be reached,
# so a lost cache loses no login (tests/test_cache_outage.py). A copy lives five minutes
# at most (config.redis_cache.SessionCopies), so a log-out that a hung cache missed is not
# undone for longer when it resumes.
if CACHE_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
    CACHES["sessions"] = {**CACHES["default"], "BACKEND": "config.redis_cache.SessionCopies"}

# Residents' requests: days until an errand, an objection, a complaint or a wish (when the
# compound has no demand list in the making) is due.
RESIDENTS_ERRAND_DAYS = env_int("RESIDENTS_ERRAND_DAYS", 3)
RESIDENTS_OBJECTION_DAYS = env_int("RESIDENTS_OBJECTION_DAYS", 7)
RESIDENTS_COMPLAINT_DAYS = env_int("RESIDENTS_COMPLAINT_DAYS", 15)
RESIDENTS_WISH_DAYS = env_int("RESIDENTS_WISH_DAYS", 30)
# The public wish form: how many wishes one address and one phone number may leave.
RESIDENTS_PUBLIC_PER_ADDRESS_PER_HOUR = env_int("RESIDENTS_PUBLIC_PER_ADDRESS_PER_HOUR", 5)
RESIDENTS_PUBLIC_PER_PHONE_PER_DAY = env_int("RESIDENTS_PUBLIC_PER_PHONE_PER_DAY", 3)

# Party cells: hours the community and the sub-district have to answer a branch's
# escalation ("支部吹哨、社街报到") before it is flagged as unanswered in time.
PARTYCELLS_ESCALATION_ANSWER_HOURS = env_int("PARTYCELLS_ESCALATION_ANSWER_HOURS", 48)
