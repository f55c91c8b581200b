"""App config: discovers the ``job_kinds`` module of every installed app."""
from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jobs"
    verbose_name = "后台任务"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("job_kinds")
