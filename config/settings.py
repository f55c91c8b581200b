"""Project settings, read from the environment with django-environ.

DATABASE_URL unset -> SQLite file ``db.sqlite3`` in the project (zero-setup ``make run``);
set (``postgres://...``) -> PostgreSQL through psycopg 3, the production database.

Production and development (docs/security.md §部署配置):
- ``DEBUG`` set in the environment (or ``.env``) wins. Unset, a checkout without
  ``SECRET_KEY`` is a developer's machine (``make run``, the tests, ``trial_calc``): DEBUG on,
  with a development key; any deployment sets ``SECRET_KEY``, so there DEBUG is off.
- ``DEBUG=False`` without ``SECRET_KEY`` (or with the development key) refuses to start
  (``ImproperlyConfigured``): never a production site signing sessions with a published key.
- With DEBUG off the secure settings are the defaults — HTTPS redirect (behind a proxy that
  sets ``X-Forwarded-Proto``), HSTS for a year, secure session and CSRF cookies — so
  ``DEBUG=False SECRET_KEY=… ALLOWED_HOSTS=… DATABASE_URL=… manage.py check --deploy
  --fail-level WARNING`` passes with nothing else set. Each may still be turned off by its
  variable (e.g. ``SECURE_SSL_REDIRECT=False`` where the proxy redirects itself).
"""
import os
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.databases import REPLICA, databases

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    CSRF_TRUSTED_ORIGINS=(list, []),
    AXES_FAILURE_LIMIT=(int, 5),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me-" + "x" * 20
DEBUG = env.bool("DEBUG", default="SECRET_KEY" not in os.environ)
SECRET_KEY = env("SECRET_KEY", default="") or DEVELOPMENT_SECRET_KEY  # set but empty: not set
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DEBUG=False (production) but SECRET_KEY is not set: refusing to start with the built-in "
        "development key. Set SECRET_KEY in the environment or .env to a random value of at least "
        "50 characters (python -c 'import secrets; print(secrets.token_urlsafe(50))'); "
        "生产环境（DEBUG=False）必须设置 SECRET_KEY，系统拒绝使用内置的开发密钥启动。")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "policies.admin_site.SiteAdminConfig",  # django.contrib.admin with the project's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "simple_history",
    "import_export",
    "axes",
    # 等保三级 login controls: two factors (django-otp), password rules, idle sessions
    # (accounts/; after django-otp: its admin unregisters django-otp's device pages)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "policies",
    "ledger",
    "enrollment",
    "claims",
    "finance",
    "reports",
    "sheets",
    "jobs",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # read-your-writes with a read replica: a writing request and the next few seconds of
    # the same browser read the primary only (config/db_routers.py; nothing without one)
    "config.db_routers.PrimaryAfterWriteMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # 等保三级 login controls (accounts/middleware.py), in this order: the idle session
    # ends first, then the second factor, then a due password change
    "accounts.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # names printed by Django (Person.__str__: titles, links, options) masked for the
    # request's user (policies/masking.py, 脱敏规则 姓名)
    "policies.masking.MaskingViewerMiddleware",
    # AxesMiddleware must be last: it turns a lockout into the lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"

# Inputs, checkboxes and selects written in Python with the templates' HTML (a list's
# action checkboxes, the rule tables' inputs): policies/widgets.py; compared with the templates
# by policies/tests/test_fast_widgets.py and tests/test_fast_widget_pages.py
FORM_RENDERER = "policies.widgets.FastWidgetRenderer"

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

WSGI_APPLICATION = "config.wsgi.application"

# default (DATABASE_URL), the reports' read replica (DATABASE_REPLICA_URL), connection pool
# or persistent connections (DATABASE_POOL, DATABASE_CONN_MAX_AGE): config/databases.py
DATABASES = databases(env, sqlite_file=BASE_DIR / "db.sqlite3")
# Report reads (jobs.replica.reports_read) go to the replica when there is one; a browser
# that has just written reads the primary for this many seconds (the replica's lag is
# well under a second when it keeps up).
DATABASE_ROUTERS = ["config.db_routers.ReportsReplicaRouter"]
REPORTS_READ_REPLICA = env.bool("REPORTS_READ_REPLICA", default=REPLICA in DATABASES)
DATABASE_REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保三级 (accounts/validators.py): 3 of 4 character classes, none of the last 5
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "accounts.validators.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
# Chinese for the strings of Django's admin and django-axes that ship without one
# (locale/zh_Hans/LC_MESSAGES/django.po, compiled by `make messages`).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

# Security: secure by default when DEBUG is off (module docstring; `check --deploy`); each
# may be overridden from the environment. The site runs behind a reverse proxy that ends
# TLS and sets X-Forwarded-Proto (the proxy must overwrite a client's own header).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

# Login lockout (django-axes): 5 failures per username+IP lock the account for an hour.
AXES_FAILURE_LIMIT = env("AXES_FAILURE_LIMIT")
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Chinese lockout page (templates/axes/lockout.html; docs/access.md).
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"

# ---- 等保三级 login controls (accounts/; docs/security.md §会话管理, §身份鉴别) ----
# Sessions: the cookie ends with the browser; a session idle for this many minutes ends
# (accounts.middleware.IdleTimeoutMiddleware); the page warns this many seconds before.
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_IDLE_TIMEOUT_MINUTES = env.float("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_IDLE_WARNING_SECONDS = env.int("SESSION_IDLE_WARNING_SECONDS", default=120)
# Passwords (validators above): changed every this many days (0: never expire); an
# account created or reset by an administrator changes it at the first login.
PASSWORD_MAX_AGE_DAYS = env.int("PASSWORD_MAX_AGE_DAYS", default=90)
# Two factors (django-otp TOTP + recovery codes): required for these roles (group names
# of policies/roles.py) and for superusers; a user with an authenticator is always asked.
# The demo accounts of load_demo are exempt (accounts.AccountSecurity.demo_account).
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=["经办员", "审核员", "政策管理员", "只读/监管", "审计员", "基金财务"])
OTP_REQUIRED_FOR_SUPERUSERS = env.bool("OTP_REQUIRED_FOR_SUPERUSERS", default=True)
OTP_TOTP_ISSUER = "医疗保障经办管理系统"  # the name the authenticator app shows
# a wrong second-factor code counts as a login failure; its value is not kept in the log
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]  # axes default + the code

# django-import-export: every import runs in one transaction (all-or-nothing).
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # the access log (runserver's django.server, as Django sets it up) without query
    # strings: a search ?q= may hold a full ID number (policies/request_log.py)
    "filters": {"path_only": {"()": "policies.request_log.PathOnlyFilter"}},
    "formatters": {"django.server": {"()": "django.utils.log.ServerFormatter",
                                     "format": "[{server_time}] {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler"},
                 "django.server": {"class": "logging.StreamHandler", "formatter": "django.server"}},
    "loggers": {"django.server": {"handlers": ["django.server"], "filters": ["path_only"],
                                  "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Limits of an imported file (issue 15, hole 6; docs/spreadsheets.md §上限): size of an
# upload, data rows and columns of a file, errors listed in full (the rest are counted).
SHEETS_MAX_UPLOAD_MB = env.int("SHEETS_MAX_UPLOAD_MB", default=100)
SHEETS_MAX_ROWS = env.int("SHEETS_MAX_ROWS", default=1_000_000)
SHEETS_MAX_COLUMNS = env.int("SHEETS_MAX_COLUMNS", default=200)
SHEETS_MAX_ERRORS = env.int("SHEETS_MAX_ERRORS", default=10_000)
# Uploaded files, results and error reports of jobs are deleted this many days after the
# job ended (the nightly job_files_cleanup; the jobs' rows and logs stay).
JOBS_FILE_RETENTION_DAYS = env.int("JOBS_FILE_RETENTION_DAYS", default=30)

# Long work as jobs on Celery workers (docs/jobs.md, docs/deploy.md).
# Uploaded inputs, results and error reports of jobs live in Django's default storage
# (MEDIA_ROOT on disk; any STORAGES backend, e.g. S3-compatible, by setting), so every
# app server and worker machine sees the same files.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"  # never served directly: files are downloaded through permission-checked views
# Live progress and cancel requests of running jobs: a cache all web and worker processes
# share (a folder on one machine by default; CACHE_URL=redis://127.0.0.1:6379/1 in production).
CACHES = {"default": env.cache("CACHE_URL", default=f"filecache://{VAR_DIR / 'cache'}")}
# The broker: Redis in production (CELERY_BROKER_URL=redis://127.0.0.1:6379/0); without it,
# kombu's filesystem transport under var/celery (web and worker on one machine only).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {"data_folder_in": str(VAR_DIR / "celery" / "queue"), "data_folder_out": str(VAR_DIR / "celery" / "queue"),
     "control_folder": str(VAR_DIR / "celery" / "control"), "store_processed": False}
    if CELERY_BROKER_URL.startswith("filesystem")
    # a message taken by a worker that dies is delivered again after this many seconds:
    # longer than the longest task (one settlement chunk, one import step)
    else {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=6 * 3600)}
)
if CELERY_BROKER_URL.startswith("filesystem"):  # the folders the web and worker processes share
    for _folder in ("queue", "control"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")  # tests and benches: their own
CELERY_TASK_ACKS_LATE = True  # a task's message is acknowledged when it has finished
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's task is delivered again
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # a worker takes one task at a time: long tasks
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Calendar duties (`celery -A config beat`; each also `manage.py run_job <kind>`).
CELERY_BEAT_SCHEDULE = {
    "overdue-claims-nightly": {"task": "jobs.periodic", "schedule": crontab(hour=1, minute=0),
                               "args": ("overdue_claims",)},
    "renew-enrollments-nightly": {"task": "jobs.periodic", "schedule": crontab(hour=2, minute=0),
                                  "args": ("renew_enrollments",)},
    "dashboard-refresh-nightly": {"task": "jobs.periodic", "schedule": crontab(hour=0, minute=30),
                                  "args": ("dashboard_refresh",)},
    # the 基金余额表 summary follows the postings within minutes (ledger.services; no task
    # per posting), and once a night as a job
    "fund-balances-advance": {"task": "ledger.fund_balances_advance", "schedule": 300.0},
    "fund-balances-nightly": {"task": "jobs.periodic", "schedule": crontab(hour=0, minute=15),
                              "args": ("fund_balances_advance",)},
    "job-files-cleanup-nightly": {"task": "jobs.periodic", "schedule": crontab(hour=3, minute=0),
                                  "args": ("job_files_cleanup",)},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The admin action 结算所选理赔 settles at most this many claims within the request; a
# larger selection becomes the job settle_claims, run by the workers (docs/claims.md).
CLAIMS_SETTLE_INLINE_MAX = env.int("CLAIMS_SETTLE_INLINE_MAX", default=50)
