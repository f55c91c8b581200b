"""Builders shared by the login-control tests."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "Yibao#2024demo"
LOGIN = "/admin/login/?next=/admin/"


def staff(username="jingban", role=None, superuser=False, password=PASSWORD):
    user = get_user_model().objects.create_user(username, password=password, is_staff=True,
                                                is_superuser=superuser)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def password_login(client, username="jingban", password=PASSWORD, ip="10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def authenticator(user, confirmed=True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=confirmed)


def current_code(device) -> str:
    """The code the user's app shows now (RFC 6238, from the device's key)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):0{device.digits}d}"
