"""The settings a deployment gets from its environment (issue 15 hole 10; config/settings.py,
docs/security.md): ``DEBUG=False`` without ``SECRET_KEY`` refuses to start; with only
``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DATABASE_URL`` set, ``check --deploy`` is clean;
a bare checkout (``make run``, ``trial_calc``) still runs. Each runs ``manage.py`` in a
process of its own with exactly the environment given."""
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

pytestmark = pytest.mark.own_database  # each process on its own SQLite file


def manage(tmp_path, *args, **variables):
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}", **variables}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def production_key() -> str:
    return secrets.token_urlsafe(50)


@pytest.mark.parametrize("key", [None, "", "dev-only-insecure-key-change-me-" + "x" * 20])
def test_production_without_a_secret_key_refuses_to_start(tmp_path, key):
    variables = {"DEBUG": "False", "ALLOWED_HOSTS": "ybj.example.gov.cn"}
    if key is not None:
        variables["SECRET_KEY"] = key
    proc = manage(tmp_path, "check", **variables)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "SECRET_KEY" in proc.stderr
    assert "必须设置 SECRET_KEY" in proc.stderr


@pytest.mark.parametrize("debug", [{"DEBUG": "False"}, {}])
def test_deploy_check_is_clean_with_only_the_three_variables(tmp_path, debug):
    """Secure defaults with DEBUG off: HSTS, HTTPS redirect behind the proxy header, secure
    cookies. Without DEBUG, a set SECRET_KEY means a deployment: DEBUG is off too."""
    proc = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **debug,
                  SECRET_KEY=production_key(), ALLOWED_HOSTS="ybj.example.gov.cn")
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout
    shown = manage(tmp_path, "shell", "-c", "from django.conf import settings as s; print(s.DEBUG, "
                   "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_SECURE, "
                   "s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)", **debug,
                   SECRET_KEY=production_key(), ALLOWED_HOSTS="ybj.example.gov.cn")
    assert shown.stdout.strip().splitlines()[-1] == "False True 31536000 True True ('HTTP_X_FORWARDED_PROTO', 'https')"


def test_a_developer_checkout_runs_with_debug_and_fails_the_deploy_check(tmp_path):
    """Nothing set (``make run``, ``trial_calc`` on a laptop): DEBUG on with the development
    key, plain HTTP; ``check --deploy`` says so instead of passing."""
    assert manage(tmp_path, "check").returncode == 0
    proc = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert proc.returncode != 0
    assert "security.W018" in proc.stderr  # DEBUG on
