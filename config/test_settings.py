"""Settings of the test suite (pytest.ini): the project's settings with what costs time per
test without being under test switched off.

- MD5 password hashing: a real PBKDF2 hash costs ≈ 0.3 s per created user or login; no test
  checks the hasher (the lockout, permissions and login flows work the same with MD5).
- Jobs (docs/jobs.md) run eagerly, in the test's process, unless a test starts workers;
  their files live in a temporary folder removed at exit.
- Plain HTTP: the test client and the browser tests' live server speak http, so the HTTPS
  redirect, HSTS and secure-only cookies (the defaults with DEBUG off, config/settings.py)
  stay off even when the environment running the tests sets SECRET_KEY.
- The read replica (config/db_routers.py) off: ``replica`` is a mirror alias of the test
  database that only tests/test_read_replica.py reads, switching ``REPORTS_READ_REPLICA`` on.
- Two-factor login not required by role (``OTP_REQUIRED_ROLES`` empty, not for superusers):
  the tests of other apps log in with a password only; the tests of the login controls
  (accounts/tests, tests/browser/test_browser_security.py) switch it on with ``settings``.
Everything else (django-axes lockout, simple-history, the middleware) stays as in production.
"""
import atexit
import os
import shutil
import tempfile

if "VAR_DIR" not in os.environ:  # jobs' files, the progress cache and the local broker
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="medins-test-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)
# Jobs run in the process that starts them, when their transaction commits; the tests
# that start real `celery worker` processes set this to false for those processes.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from config.settings import *  # noqa: E402, F403

# jobs start at once, in the test's process and transaction (jobs.services._enqueue)
JOBS_RUN_INLINE = os.environ["CELERY_TASK_ALWAYS_EAGER"].lower() == "true"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # A commit need not wait for the write-ahead log to reach the disk: a crash of the
    # test server loses only the last test's rows, which nobody keeps. Transactional and
    # browser tests commit on every request, so this is most of their database time.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"  # noqa: F405

# A second alias for the read-replica tests (tests/test_read_replica.py): ``replica`` is a
# mirror of the test database (another connection to it, no database of its own, never
# migrated), unused unless a test switches REPORTS_READ_REPLICA on and asks for both aliases.
if REPLICA not in DATABASES:  # noqa: F405
    DATABASES[REPLICA] = {**DATABASES["default"], "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),  # noqa: F405
                          "TEST": {"MIRROR": "default"}}
REPORTS_READ_REPLICA = False

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

OTP_REQUIRED_ROLES = []
OTP_REQUIRED_FOR_SUPERUSERS = False
