"""App config."""
from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "政策参数"
    name = "policies"

    def ready(self):
        from audit.providers import register_full_numbers_check
        from jobs.scope import register_full_view_check, register_scope

        from .access import RegionScope
        from .masking import can_view_full_identity, shows_full
        from .permission_names import after_migrate
        from .rules_version import after_migrate as install_rules_version_triggers
        from .widgets import textarea_line_breaks_install

        # the spreadsheet framework's rows of a user are the user's regions
        register_scope(RegionScope())
        # the job pages show another user's personal data as the masking rules say
        register_full_view_check(shows_full)
        # the audit page shows searched numbers in full to who reads them in full elsewhere
        register_full_numbers_check(can_view_full_identity)

        # a textarea's submitted line breaks read as stored (\n), not the browser's \r\n
        textarea_line_breaks_install()
        # permission names in Chinese once auth has created them (docs/access.md)
        post_migrate.connect(after_migrate, dispatch_uid="policies.permission_names")
        # PlanYear.rules_version kept by the database (policies/rules_version.py)
        post_migrate.connect(install_rules_version_triggers, sender=self,
                             dispatch_uid="policies.rules_version")
        # django-axes (login lockout, docs/access.md) names its app "Axes"; its models'
        # and fields' names are translated in locale/zh_Hans.
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = "登录记录与锁定"
