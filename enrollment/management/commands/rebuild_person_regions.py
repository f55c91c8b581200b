"""``manage.py rebuild_person_regions``: rebuild the person → region visibility rows
(``enrollment.PersonRegion``, docs/access.md §参保人的可见范围) from the persons' 户籍/常住地
and their enrollments — set-based SQL in one transaction, idempotent (rows no longer
justified deleted, missing ones inserted). For data written around the services (a raw
SQL load, a restore) and after upgrading."""
from django.core.management.base import BaseCommand
from django.db import transaction

from enrollment.services.visibility import person_regions_rebuild


class Command(BaseCommand):
    help = "按参保人的户籍所在地、常住地和参保登记重建参保人可见统筹区（可重复执行）"

    def handle(self, *args, **options):
        with transaction.atomic():
            deleted, inserted = person_regions_rebuild()
        self.stdout.write(f"参保人可见统筹区已重建：删除 {deleted} 行，新增 {inserted} 行")
