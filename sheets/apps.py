"""App config: discovers the ``sheet_kinds`` module (or package) of every
installed app."""
from django.apps import AppConfig


class SheetsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "sheets"
    verbose_name = "表格导入导出"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from audit.providers import register_table_writer

        from .writers import write_table

        autodiscover_modules("sheet_kinds")
        register_table_writer(write_table)  # the audit page's export (audit sits below sheets)
