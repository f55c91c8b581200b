"""Keeps the person → region visibility rows (``PersonRegion``) in step with single-row
writes, in their transaction (``enrollment.services.visibility``): a person created or
moved (户籍/常住地 changed), an enrollment created, deleted or moved to another plan year.
The loaded values are remembered by ``Person.from_db`` / ``Enrollment.from_db`` so an
ordinary save (a payment updating the coverage) costs no query here. Bulk writes (sheet
imports, demo loaders) call the visibility service themselves.

Keeps ``Enrollment.category`` equal to the person's 人员类别 the same way
(docs/enrollment.md §人员类别): an enrollment saved without it takes its person's; a
person saved with another category than the one loaded passes it on to their enrollments
(``services.enrollment_categories_sync``; the persons import calls it itself)."""
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from enrollment.models import Enrollment, Person
from enrollment.services.enrollments import enrollment_categories_sync
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


@receiver(post_save, sender=Person, dispatch_uid="enrollment.categories.person")
def person_category_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if raw or created or (update_fields is not None and "category" not in update_fields):
        return
    if getattr(instance, "_loaded_category", None) != instance.category:
        enrollment_categories_sync(person_ids=[instance.pk])
    instance._loaded_category = instance.category


@receiver(pre_save, sender=Enrollment, dispatch_uid="enrollment.categories.enrollment")
def enrollment_category_filled(sender, instance, raw=False, **kwargs):
    """An enrollment written without its 人员类别 (a loader or test building the row
    directly; the services pass it) takes its person's."""
    if raw or instance.category or instance.person_id is None:
        return
    field = Enrollment._meta.get_field("person")
    if field.is_cached(instance):
        instance.category = instance.person.category
    else:
        instance.category = Person.objects.filter(pk=instance.person_id).values_list(
            "category", flat=True).first() or ""


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
