from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "登录安全"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .admin_login_records import install_titles

        # django-axes' records named in Chinese and local time (pages, breadcrumbs, history)
        install_titles()
