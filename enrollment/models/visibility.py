"""Who may see a person, as rows (issue 17): ``PersonRegion`` holds one row per region a
person belongs to for region scoping — the 户籍所在地, the 常住地 and the region of every
enrollment's scheme (docs/access.md §参保人的可见范围). A clerk's person list is then an
indexed semi-join (``EXISTS … region_id IN (the user's regions)``) instead of
``hukou IN … OR residence IN … OR id IN (enrollments …)``, a scan of every person.

Derived data, never edited by hand: ``enrollment.services.visibility`` keeps it in the
transaction of each write (person created or moved, enrollment created or deleted, the
persons and payments sheet imports after their COPY, the demo loaders), and
``manage.py rebuild_person_regions`` rebuilds it set-based from the persons and
enrollments.
"""
from django.db import models


class LoadedRegionsMixin:
    """Remembers, on a row read from the database, the values of ``loaded_region_fields``
    (the fields that decide the person's visibility rows) as ``_loaded_regions``, when
    they were loaded: ``enrollment.signals`` then knows whether a save moved the person
    without a query."""

    loaded_region_fields: tuple[str, ...] = ()

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        names = cls.loaded_region_fields
        if all(n in instance.__dict__ for n in names):
            instance._loaded_regions = tuple(instance.__dict__[n] for n in names)
        return instance


class PersonRegion(models.Model):
    """参保人可见统筹区: ``person`` is visible to the users of ``region``."""

    person = models.ForeignKey("enrollment.Person", verbose_name="参保人", on_delete=models.CASCADE,
                               related_name="+", db_index=False)  # the unique index leads with it
    region = models.ForeignKey("policies.Region", verbose_name="统筹区", on_delete=models.CASCADE,
                               related_name="+", db_index=False)  # (region, person) below

    class Meta:
        verbose_name = verbose_name_plural = "参保人可见统筹区"
        constraints = [models.UniqueConstraint(fields=["person", "region"], name="person_region_unique")]
        indexes = [models.Index(fields=["region", "person"], name="person_region_by_region")]

    def __str__(self):
        return f"{self.person_id} → {self.region_id}"
