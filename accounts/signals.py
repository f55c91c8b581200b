"""Hooks for the audit log (the ``audit`` app listens; this app records nothing itself).

Besides Django's ``user_logged_in`` / ``user_logged_out`` / ``user_login_failed`` (a wrong
second-factor code is also sent as ``user_login_failed``, with ``credentials={"username":
…, "second_factor": True}``, so that django-axes counts it), the login controls send:

- ``second_factor_verified(sender, request, user, device)``: the code was right;
- ``second_factor_enrolled(sender, request, user, device)``: an authenticator was confirmed
  and new recovery codes issued;
- ``session_idle_timeout(sender, request, user, idle_seconds)``: the session ended for
  inactivity (followed by ``user_logged_out``).
"""
from django.dispatch import Signal

second_factor_verified = Signal()
second_factor_enrolled = Signal()
session_idle_timeout = Signal()
