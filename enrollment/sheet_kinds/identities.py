"""Sheet kind ``identities`` (特殊身份 with validity dates): spec README §2, §6. The checks are
the model's own (overlapping identity periods); rows are written through ``identity_add``.
Import permission: ``enrollment.add_personidentity``."""
from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError

from enrollment import selectors, services
from enrollment.models import Person, PersonIdentity
from enrollment.sheet_kinds.columns import (
    ID_ALIASES,
    document_number_cell,
)
from enrollment.sheet_kinds.rows import PersonRowsMixin, written
from policies import codes
from policies import models as pm
from policies.masking import masked_id, masked_name
from sheets.parsing import CodeTable, normalise_text, parse_date, text
from sheets.registry import Column, SheetKind, register

DEPARTMENTS = CodeTable("认定部门", codes.Department.choices, {"退役军人事务局": "veterans",
                                                          "乡村振兴局": "rural_revitalization"})
DEPARTMENT_NAMES = dict(codes.Department.choices)


@register
class IdentitySheet(PersonRowsMixin, SheetKind):
    """参保人特殊身份: key = (参保人, 特殊身份, 认定起始日); the same row again is 无变化, a
    different one with that key an error; periods of one identity may not overlap (also
    between rows of the file)."""

    name = "identities"
    model = PersonIdentity
    writes = ("enrollment.PersonIdentity",)
    label = "特殊身份"
    import_permission = "enrollment.add_personidentity"

    def __init__(self):
        self.columns = [
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
                   description="须为已登记的参保人", attribute="person__document_number", mask=masked_id),
            Column("name", "姓名", text, description="填写时须与登记的姓名一致", attribute="person__name",
                   mask=masked_name),
            Column("identity", "特殊身份", text, required=True, aliases=("身份", "身份类别"),
                   description="特殊身份代码或名称（如 低保对象）", attribute="identity__name"),
            Column("valid_from", "认定起始日", parse_date, required=True, aliases=("有效期起",)),
            Column("valid_to", "认定终止日", parse_date, aliases=("有效期止",), description="空 = 长期有效"),
            Column("department", "认定部门", DEPARTMENTS, default="",
                   description=f"空 = 该身份的默认认定部门。{DEPARTMENTS.describe()}",
                   export=lambda obj, _resource: DEPARTMENT_NAMES.get(obj.department or obj.identity.department, "")),
            Column("document_ref", "认定文书编号", text, default=""),
            Column("note", "备注", text, default=""),
        ]

    def start(self, ctx):
        identities = {}
        for identity in pm.Identity.objects.all():
            for value in (identity.code, identity.name):
                identities.setdefault(normalise_text(value).lower(), identity)
        ctx.state.update(identities=identities, periods=defaultdict(list))

    def check(self, rows, ctx):
        data = dict(zip(("persons", "visible"), self._persons(ctx, {r["document_number"] for r in rows}),
                        strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name")
            if person is None:
                continue
            identity = ctx.state["identities"].get(normalise_text(row["identity"]).lower())
            if identity is None:
                names = "、".join(sorted({i.name for i in ctx.state["identities"].values()}))
                ctx.error(row, "identity", f"未知的特殊身份“{row['identity']}”；可填代码或名称：{names}")
                continue
            work.append((row, person, identity))
        existing = {}
        if work:
            for pi in PersonIdentity.objects.filter(person_id__in={p.pk for _r, p, _i in work}):
                existing[(pi.person_id, pi.identity_id, pi.valid_from)] = pi
        planned = []
        for row, person, identity in work:
            department = row["department"] or identity.department
            recorded = existing.get((person.pk, identity.pk, row["valid_from"]))
            if recorded is not None:
                same = (recorded.valid_to == row["valid_to"] and recorded.department == department
                        and recorded.document_ref == row["document_ref"] and recorded.note == row["note"])
                if same:
                    ctx.count("unchanged")
                else:
                    ctx.error(row, "valid_from", f"已登记{recorded}，与本行不一致（认定终止日、认定部门、"
                                                 f"文书编号或备注不同）")
                continue
            obj = PersonIdentity(person=person, identity=identity, valid_from=row["valid_from"],
                                 valid_to=row["valid_to"], department=department,
                                 document_ref=row["document_ref"], note=row["note"])
            try:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self._report(ctx, row, exc, {None: "valid_from"})
                continue
            periods = ctx.state["periods"][(person.pk, identity.pk)]
            clash = next((n for n, start, end in periods
                          if (end is None or obj.valid_from <= end)
                          and (obj.valid_to is None or start <= obj.valid_to)), None)
            if clash is not None:
                ctx.error(row, "valid_from", f"“{identity.name}”身份的认定期间与第 {clash} 行重叠")
                continue
            periods.append((row.number, obj.valid_from, obj.valid_to))
            ctx.count("created")
            planned.append((row.number, obj))
        return planned

    def write(self, planned, ctx):
        for number, obj in planned:
            written(services.identity_add, number, person=obj.person, identity=obj.identity,
                     valid_from=obj.valid_from, valid_to=obj.valid_to, department=obj.department,
                     document_ref=obj.document_ref, note=obj.note, acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        persons = Person.objects.all() if user is None else selectors.persons_visible_to(user)
        qs = PersonIdentity.objects.filter(person__in=persons)
        if year is not None:
            qs = qs.filter(valid_from__year__lte=year).exclude(valid_to__year__lt=year)
        return qs.select_related("person", "identity").order_by("pk")
