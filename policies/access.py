"""Region scoping of staff users (spec README §1–2: sub-regions are for access scoping).

A staff user is bound to regions through ``policies.models.StaffProfile.regions``.
The rules (docs/access.md):

- a superuser sees every row of every region;
- any other user sees the rows of the regions of their profile **and of every
  sub-region** (``Region.parent``, at any depth) — a user bound to 三明市 350400 also
  sees 尤溪县 350426;
- a staff user without a profile, or with a profile without regions, sees nothing;
- an inactive or anonymous user sees nothing.

Selectors here read only. Other apps reuse them:

``user_region_ids(user)``
    frozenset of the ids of the regions ``user`` may see (superuser: all regions).
``user_bound_regions(user)``
    the regions of the user's profile (no sub-regions): a form's default region.
``regions_in_words(user)``
    those regions in words for export titles and file names (垫江县; 全部统筹区).
``scope_queryset(qs, user, region_field)``
    ``qs`` restricted to the rows whose ``region_field`` (an ORM path ending at a
    ``Region``, e.g. ``"plan_year__scheme__region"``) is in the user's regions.
``RegionScope``
    the scope the spreadsheet framework asks (``jobs.scope``).
``RegionScopedAdminMixin``
    the admin mixin; see its docstring for how the enrollment and claims admins use it.
``RegionScopedWritesAdminMixin``
    the same for writes only (a catalogue every region reads: hospitals).
``user_has_national_scope(user)`` / ``NationalCatalogueAdminMixin``
    who writes national rows (rows without region): superusers and users bound to every
    region.
"""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import Exists, OuterRef, Q

from sheets.bulk_sql import PreparedValues

from .models import PlanYear, Region, Scheme, StaffProfile

_CACHE_ATTR = "_policies_region_ids"
_KEYS_ATTR = "_policies_region_keys"
_NATIONAL_ATTR = "_policies_national_scope"
_EVERY_ATTR = "_policies_every_region"  # every region's id, read with the user's regions


# --------------------------------------------------------------------------- selectors


def _with_descendants(region_ids):
    """``region_ids`` plus every region below them (Region.parent, any depth)."""
    return _descendants(region_ids, Region.objects.values_list("id", "parent_id"))


def _descendants(region_ids, tree):
    """``region_ids`` plus every region below them in ``tree``: rows of (id, parent id, …)."""
    children = {}
    for pk, parent_id, *_rest in tree:
        children.setdefault(parent_id, []).append(pk)
    result, todo = set(), list(region_ids)
    while todo:
        pk = todo.pop()
        if pk in result:
            continue
        result.add(pk)
        todo.extend(children.get(pk, ()))
    return frozenset(result)


def user_sees_all_regions(user) -> bool:
    """True for an active superuser (no region restriction at all, shared rows included)."""
    return bool(user is not None and user.is_active and user.is_superuser)


def user_has_national_scope(user) -> bool:
    """True for a superuser and for an active user whose regions (with sub-regions) are
    every region: the only users who may write national rows (rows without region, e.g.
    the 特殊身份 catalogue, a 全国 holiday, a hospital outside every region)."""
    if user_sees_all_regions(user):
        return True
    cached = getattr(user, _NATIONAL_ATTR, None)  # per user object, as ``user_region_ids``
    if cached is None:
        ids = user_region_ids(user)
        every = getattr(user, _EVERY_ATTR, None)  # the regions ``user_region_ids`` read
        if every is None:
            cached = bool(ids) and not Region.objects.exclude(pk__in=ids).exists()
        else:
            cached = bool(ids) and every <= ids
        if ids:
            setattr(user, _NATIONAL_ATTR, cached)
    return cached


# every region with its parent and whether the user's profile names it: one statement for
# the bound regions and the tree ``_descendants`` walks, read on every staff user's request;
# compiled once per process on PostgreSQL (sheets.bulk_sql.PreparedValues): 0.1 ms a call
# instead of 1.0 ms, most of which was Django building and compiling it
_REGION_TREE = PreparedValues(lambda user_id: Region.objects.values_list(
    "id", "parent_id", Exists(StaffProfile.regions.through.objects.filter(
        region_id=OuterRef("pk"), staffprofile__user_id=user_id))))


def user_region_ids(user) -> frozenset[int]:
    """Ids of the regions ``user`` may see: bound regions and their sub-regions.

    Superuser: every region. Anonymous, inactive, or without profile/regions: empty.
    The result is cached on the user object (one request = one user object); call
    ``clear_region_cache(user)`` after changing that user's profile in the same request.
    """
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    if user.is_superuser:
        ids = frozenset(Region.objects.values_list("id", flat=True))
    else:
        rows = _REGION_TREE.rows(user.pk) if user.pk is not None else list(_REGION_TREE.build(None))
        ids = _descendants({pk for pk, _parent, bound in rows if bound}, rows)
        setattr(user, _EVERY_ATTR, frozenset(pk for pk, _parent, _bound in rows))
    setattr(user, _CACHE_ATTR, ids)
    return ids


def user_bound_regions(user):
    """The regions named on ``user``'s staff profile, without their sub-regions (e.g. the
    one county a clerk works for; empty for an anonymous user)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Region.objects.none()
    return Region.objects.filter(staffprofile__user=user).order_by("code")


def clear_region_cache(user) -> None:
    for attr in (_CACHE_ATTR, _KEYS_ATTR, _NATIONAL_ATTR, _EVERY_ATTR):
        if hasattr(user, attr):
            delattr(user, attr)


def regions_in_words(user) -> str:
    """The regions of ``user``'s exports in words: the regions bound to the user
    (sub-regions included in the data), 全部统筹区 for a superuser or a system job."""
    if user is None or user.is_superuser:
        return "全部统筹区"
    names = list(Region.objects.filter(staffprofile__user=user).order_by("code")
                 .values_list("name", flat=True))
    return "、".join(names[:3]) + ("等" if len(names) > 3 else "")


class RegionScope:
    """The region scope handed to the spreadsheet framework (``jobs.scope``; registered
    in ``PoliciesConfig.ready``)."""

    @staticmethod
    def sees_all(user) -> bool:
        return user_sees_all_regions(user)

    @staticmethod
    def region_ids(user) -> frozenset[int]:
        return user_region_ids(user)

    @staticmethod
    def describe(user) -> str:
        return regions_in_words(user)

    @staticmethod
    def region(code: str):
        return Region.objects.filter(code=code).first()


def region_filter(user, region_field: str, *, include_shared: bool = False) -> Q:
    """The ``Q`` that keeps the rows of ``user``'s regions (``region_field`` = ORM path).

    ``include_shared``: rows whose region is empty (e.g. a 全国 holiday) are kept too.
    """
    q = Q(**{f"{region_field}__in": user_region_ids(user)})
    if include_shared:
        q |= Q(**{f"{region_field}__isnull": True})
    return q


def scope_queryset(qs, user, region_field: str, *, include_shared: bool = False):
    """``qs`` restricted to ``user``'s regions; unchanged for a superuser."""
    if user_sees_all_regions(user):
        return qs
    return qs.filter(region_filter(user, region_field, include_shared=include_shared))


def region_keys(user, model) -> list[int]:
    """The primary keys of the rows of ``model`` — a region-bound policy table
    (``Scheme``, ``PlanYear``) — in ``user``'s regions, read once per request (cached on
    the user object, as ``user_region_ids``)."""
    cache = getattr(user, _KEYS_ATTR, None)
    if cache is None:
        cache = {}
        setattr(user, _KEYS_ATTR, cache)
    if model not in cache:
        path = KNOWN_REGION_PATHS[model]
        cache[model] = sorted(model._default_manager.filter(**{f"{path}__in": user_region_ids(user)})
                              .values_list("pk", flat=True))
    return cache[model]


def scope_by_keys(qs, user, key_field: str):
    """``scope_queryset`` of a large table through its foreign key ``key_field`` to a
    region-bound policy table (``"plan_year"``, ``"scheme"``): the user's rows of that
    table are read first (``region_keys``), then ``key_field_id IN (…)`` — a condition on
    the listed table's own column, which an index holding it can serve while scanning in
    the list's order, instead of joins up to the region (docs/scale.md §6). Unchanged for
    a superuser."""
    if user_sees_all_regions(user):
        return qs
    model = qs.model._meta.get_field(key_field).related_model
    return qs.filter(**{f"{key_field}__in": region_keys(user, model)})


def region_id_of(obj, region_field: str):
    """The region id of ``obj`` following ``region_field`` through forward relations.

    ``"pk"``/``"id"`` means the object *is* a Region. Returns ``None`` when a relation on
    the way is empty.
    """
    parts = region_field.split("__")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    last = parts[-1]
    if last in ("pk", "id"):
        return obj.pk
    field = obj._meta.get_field(last)
    if not field.many_to_one and not field.one_to_one:
        raise ImproperlyConfigured(f"region_field “{region_field}” 必须经由外键指向统筹区")
    return getattr(obj, field.attname)


def user_can_access(user, obj, region_field: str, *, shared_readable: bool = False) -> bool:
    """May ``user`` see ``obj``? A row without region is readable only if ``shared_readable``."""
    if user_sees_all_regions(user):
        return True
    region_id = region_id_of(obj, region_field)
    if region_id is None:
        return shared_readable
    return region_id in user_region_ids(user)


# Region paths of the policies models; other apps' models are found through their
# registered RegionScopedAdminMixin admins (``region_field``) or by introspection.
KNOWN_REGION_PATHS = {Region: "pk", Scheme: "region", PlanYear: "scheme__region"}


def region_path_for(model, admin_site=None):
    """ORM path from ``model`` to a Region, or ``None`` if the model is not region-bound.

    Looked up in order: the policies models above; the ``region_field`` of the model's
    admin when that admin uses ``RegionScopedAdminMixin``; a foreign key named
    ``region`` to Region; a foreign key to Scheme or PlanYear. (A model with other
    region keys, e.g. a person's 户籍地, declares its own admin ``region_field``.)
    """
    if model in KNOWN_REGION_PATHS:
        return KNOWN_REGION_PATHS[model]
    model_admin = (admin_site or admin.site)._registry.get(model)
    if isinstance(model_admin, RegionScopedAdminMixin) and model_admin.region_field:
        return model_admin.region_field
    for field in model._meta.fields:
        if not field.many_to_one or field.related_model not in KNOWN_REGION_PATHS:
            continue
        if field.related_model is Region:
            if field.name == "region":
                return "region"
        else:
            return f"{field.name}__{KNOWN_REGION_PATHS[field.related_model]}"
    return None


# --------------------------------------------------------------------------- admin


class RegionScopedFormfieldMixin:
    """Restricts the choices of every region-bound foreign key / many-to-many field to
    the user's regions (Region, Scheme, PlanYear and any model ``region_path_for`` knows).
    Shared by model admins and inlines."""

    def _scoped_choices(self, db_field, request, kwargs):
        if "queryset" in kwargs:
            return
        related = db_field.remote_field.model
        path = region_path_for(related, self.admin_site)
        if path is None:
            return
        qs = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if qs is None:
            qs = related._default_manager.using(kwargs.get("using"))
        if related in KNOWN_REGION_PATHS and path not in ("pk", "id"):
            # a scheme's or plan year's label names its region (and scheme): read them
            # with the choices, not two queries per option
            qs = qs.select_related(path)
        kwargs["queryset"] = scope_queryset(qs, request.user, path)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def list_filter_limit(self, request, field):
        """The choices of a ``listing.filters.RegionListFilter`` on ``field``: the rows of
        the user's regions (and national rows, without region) when the related model is
        region-bound; None (no limit) otherwise and for a superuser."""
        path = region_path_for(field.related_model, self.admin_site)
        if path is None or user_sees_all_regions(request.user):
            return None
        return region_filter(request.user, path, include_shared=path not in ("pk", "id"))


class RegionScopedWritesAdminMixin(RegionScopedFormfieldMixin):
    """Admin mixin for a catalogue every region reads but each region writes only its
    own rows (hospitals: a claim may be treated anywhere). Declare ``region_field`` as
    for ``RegionScopedAdminMixin``; lists and pages are not scoped, but

    - ``has_change/delete_permission(request, obj)`` are false for another region's row,
      and for a row without region (national) unless the user has national scope
      (``user_has_national_scope``);
    - region-bound foreign-key choices are the user's regions (a new row lands there);
    - ``save_model`` refuses a row that would land outside the user's regions.
    """

    region_field: str | None = None
    shared_when_null = False

    def _region_field(self):
        if not self.region_field:
            raise ImproperlyConfigured(f"{type(self).__name__} 必须声明 region_field")
        return self.region_field

    def in_region_scope(self, request, obj, *, write=False) -> bool:
        """Object-level check (``obj=None`` = model level: always in scope)."""
        if obj is None:
            return True
        if write and region_id_of(obj, self._region_field()) is None:
            return user_has_national_scope(request.user)
        return user_can_access(request.user, obj, self._region_field(),
                               shared_readable=self.shared_when_null and not write)

    def has_change_permission(self, request, obj=None):
        return (super().has_change_permission(request, obj)
                and self.in_region_scope(request, obj, write=True))

    def has_delete_permission(self, request, obj=None):
        return (super().has_delete_permission(request, obj)
                and self.in_region_scope(request, obj, write=True))

    def save_model(self, request, obj, form, change):
        if not self.in_region_scope(request, obj, write=True):
            raise PermissionDenied("该记录不属于您负责的统筹区")
        super().save_model(request, obj, form, change)


class RegionScopedAdminMixin(RegionScopedWritesAdminMixin):
    """Admin mixin: a user of region A cannot list, open, change or delete region B's rows.

    Declare ``region_field``, the ORM path from the model to a ``Region``::

        from policies.access import RegionScopedAdminMixin

        @admin.register(Enrollment)
        class EnrollmentAdmin(RegionScopedAdminMixin, admin.ModelAdmin):
            region_field = "plan_year__scheme__region"

        @admin.register(Claim)
        class ClaimAdmin(RegionScopedAdminMixin, SimpleHistoryAdmin):
            region_field = "enrollment__plan_year__scheme__region"

    The mixin must come *before* ``admin.ModelAdmin``/``SimpleHistoryAdmin``. It scopes:

    - ``get_queryset``: the changelist, search, actions, autocomplete and — because
      Django opens change/delete/history pages through ``get_object`` — the detail
      pages: another region's id redirects to the admin index ("不存在") instead of
      opening;
    - ``has_view/change/delete_permission(request, obj)``: ``False`` for another
      region's object (simple-history's history and revert pages answer 403);
    - foreign-key and many-to-many choices whose model is region-bound (Region,
      Scheme, PlanYear, models with a FK to those, models whose admin uses this mixin);
    - ``save_model``: refuses to save a row that would land outside the user's regions.

    ``region_key_field``: a large list whose ``region_field`` goes through a foreign key
    to ``PlanYear`` or ``Scheme`` (``"plan_year"``, ``"scheme"``) is scoped by that
    column, ``scope_by_keys``, not by joins up to the region.

    ``shared_when_null = True``: rows whose region is empty are shared by all regions
    (e.g. a national holiday): everyone with the view permission sees them, only a
    user with national scope (superuser, or bound to every region) may change or delete
    them.
    """

    region_key_field: str | None = None

    def get_queryset(self, request):
        if self.region_key_field and not self.shared_when_null:
            return scope_by_keys(super().get_queryset(request), request.user, self.region_key_field)
        return scope_queryset(super().get_queryset(request), request.user, self._region_field(),
                              include_shared=self.shared_when_null)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_region_scope(request, obj)


class NationalCatalogueAdminMixin:
    """Admin mixin for a national catalogue (rows without region, e.g. 特殊身份): everyone
    with the view permission reads it, only a user with national scope
    (``user_has_national_scope``) adds, changes or deletes rows."""

    def has_add_permission(self, request):
        return user_has_national_scope(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return user_has_national_scope(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return user_has_national_scope(request.user) and super().has_delete_permission(request, obj)
