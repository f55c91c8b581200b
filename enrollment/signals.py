"""Keeps the person → region visibility rows (``PersonRegion``) in step with single-row
writes, in their transaction (``enrollment.services.visibility``): a person created or
moved (户籍/常住地 changed), an enrollment created, deleted or moved to another plan year.
The loaded values are remembered by ``Person.from_db`` / ``Enrollment.from_db`` so an
ordinary save (a payment updating the coverage) costs no query here. Bulk writes (sheet
imports, demo loaders) call the visibility service themselves."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from enrollment.models import Enrollment, Person
from enrollment.services.visibility import person_regions_add, person_regions_sync

PERSON_REGION_FIELDS = Person.loaded_region_fields
ENROLLMENT_REGION_FIELDS = Enrollment.loaded_region_fields


def _loaded(instance, names):
    return tuple(getattr(instance, n) for n in names)


def _touches(update_fields, names) -> bool:
    """False when the save wrote named fields only and none of ``names`` (``*_id``)."""
    return update_fields is None or bool({n.removesuffix("_id") for n in names} & set(update_fields)
                                         | set(names) & set(update_fields))


@receiver(post_save, sender=Person, dispatch_uid="enrollment.person_regions.person")
def person_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or not _touches(update_fields, PERSON_REGION_FIELDS):
        return
    now = _loaded(instance, PERSON_REGION_FIELDS)
    if created:
        person_regions_add(person_ids=[instance.pk])
    elif getattr(instance, "_loaded_regions", None) != now:
        person_regions_sync(person_ids=[instance.pk])
    instance._loaded_regions = now


@receiver(post_save, sender=Enrollment, dispatch_uid="enrollment.person_regions.enrollment")
def enrollment_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or not _touches(update_fields, ENROLLMENT_REGION_FIELDS):
        return
    now = _loaded(instance, ENROLLMENT_REGION_FIELDS)
    if created:
        person_regions_add(person_ids=[instance.person_id])
    elif getattr(instance, "_loaded_regions", None) != now:
        before = getattr(instance, "_loaded_regions", None)
        person_regions_sync(person_ids=[instance.person_id] + ([before[0]] if before else []))
    instance._loaded_regions = now


@receiver(post_delete, sender=Enrollment, dispatch_uid="enrollment.person_regions.enrollment_deleted")
def enrollment_deleted(sender, instance, **kwargs):
    person_regions_sync(person_ids=[instance.person_id])
