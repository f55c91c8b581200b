"""The superuser's page of the login controls (登录安全 › 账户安全状态): who must change
their password, who has two-step verification, and two actions — reset a user's second
factor (a lost phone: the user enrols again at the next login) and require a password
change at the next login. django-otp's own device pages (English, showing keys) are not
registered. No role of ``roles_sync`` holds a permission of this app: superusers only.
django-axes' login records are replaced by ``admin_login_records`` (read-only, 解除锁定).

``AdminSetPasswordMixin`` is for the user admin (policies.admin.UserAdmin): an account
created, or a password set, by an administrator is changed by its user at the next login.
"""
from django.contrib import admin, messages
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import admin_login_records
from .models import AccountSecurity
from .services import password_mark_must_change, second_factor_reset

for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
# django-axes' login records: the project's read-only Chinese pages with 解除锁定
admin_login_records.register()


@admin.register(AccountSecurity)
class AccountSecurityAdmin(admin.ModelAdmin):
    list_display = ["user", "password_changed_at", "must_change_password", "demo_account",
                    "authenticator", "recovery_codes_left"]
    list_filter = ["must_change_password", "demo_account"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    fields = ["user", "password_changed_at", "must_change_password", "demo_account",
              "authenticator", "recovery_codes_left"]
    readonly_fields = fields
    actions = ["reset_second_factor", "require_password_change"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    list_select_related = ["user"]

    def get_queryset(self, request):
        """The rows with their two device columns, read in the same query (not two
        queries per user)."""
        tokens = (StaticToken.objects.filter(device__user_id=OuterRef("user_id"))
                  .order_by().values("device__user_id").annotate(n=Count("pk")).values("n"))
        return super().get_queryset(request).annotate(
            has_authenticator=Exists(TOTPDevice.objects.filter(user_id=OuterRef("user_id"),
                                                               confirmed=True)),
            codes_left=Coalesce(Subquery(tokens, output_field=IntegerField()), 0))

    @admin.display(description="身份验证器", boolean=True)
    def authenticator(self, obj):
        if hasattr(obj, "has_authenticator"):
            return obj.has_authenticator
        return TOTPDevice.objects.filter(user_id=obj.user_id, confirmed=True).exists()

    @admin.display(description="剩余恢复码")
    def recovery_codes_left(self, obj):
        if hasattr(obj, "codes_left"):
            return obj.codes_left
        return StaticToken.objects.filter(device__user_id=obj.user_id).count()

    @admin.action(description="重置两步验证（删除身份验证器和恢复码，下次登录重新绑定）",
                  permissions=["change"])
    def reset_second_factor(self, request, queryset):
        for state in queryset.select_related("user"):
            second_factor_reset(user=state.user, acting_user=request.user)
        self.message_user(request, f"已重置 {queryset.count()} 个账户的两步验证", messages.SUCCESS)

    @admin.action(description="要求下次登录修改密码", permissions=["change"])
    def require_password_change(self, request, queryset):
        for state in queryset.select_related("user"):
            password_mark_must_change(user=state.user, acting_user=request.user)
        self.message_user(request, f"已要求 {queryset.count()} 个账户下次登录修改密码", messages.SUCCESS)


class AdminSetPasswordMixin:
    """For a user admin: a user added, or a password set, on these pages must be changed
    by its user at their next login (not when the administrator sets their own)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            password_mark_must_change(user=obj, acting_user=request.user)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            if user is not None and user.has_usable_password():
                password_mark_must_change(user=user, acting_user=request.user)
        return response


OTP_APP_LABELS = ("otp_totp", "otp_static")


class HideDevicePermissionsMixin:
    """For the user and role admins: django-otp's device permissions (English names, its
    own pages not registered) are not offered; a device is the user's own, reset by the
    superuser on 账户安全状态."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.exclude(content_type__app_label__in=OTP_APP_LABELS)
        return field
