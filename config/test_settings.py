"""Settings of the test suite (pytest.ini): the project's settings with what costs time per
test without being under test switched off.

- MD5 password hashing: a real PBKDF2 hash costs ≈ 0.3 s per created user or login; no test
  checks the hasher (the lockout, permissions and login flows work the same with MD5).
Everything else (django-axes lockout, simple-history, the middleware) stays as in production.
"""
from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
