"""Settings of the test suite (pytest.ini): the project's settings with what costs time per
test without being under test switched off.

- MD5 password hashing: a real PBKDF2 hash costs ≈ 0.3 s per created user or login; no test
  checks the hasher (the lockout, permissions and login flows work the same with MD5).
- Plain HTTP: the test client and the browser tests' live server speak http, so the HTTPS
  redirect, HSTS and secure-only cookies (the defaults with DEBUG off, config/settings.py)
  stay off even when the environment running the tests sets SECRET_KEY.
Everything else (django-axes lockout, simple-history, the middleware) stays as in production.
"""
from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
