"""The second-factor pages and the keep-alive, under /admin/otp/ (config.urls)."""
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("verify/", views.otp_verify, name="otp_verify"),
    path("setup/", views.otp_setup, name="otp_setup"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("keepalive/", views.keepalive, name="keepalive"),
]
