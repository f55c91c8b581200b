"""Sheet kind ``relations`` (家庭关系): spec README §2, §6. The checks are the model's own
(contradicting reverse relations); rows are written through ``relation_add``, which enrolls
newborns automatically as on the admin page. Import permission:
``enrollment.add_familyrelation``."""
from __future__ import annotations

from django.core.exceptions import ValidationError

from enrollment import selectors, services
from enrollment.models import FamilyRelation, Person
from enrollment.models.person import INVERSE_RELATION, RELATION_CHOICES
from enrollment.sheet_kinds.columns import (
    document_number_cell,
)
from enrollment.sheet_kinds.rows import PersonRowsMixin, written
from policies.masking import mask_for_user_or_system, masked_id, masked_name
from sheets.parsing import CodeTable, text
from sheets.registry import Column, SheetKind, register

RELATIONS = CodeTable("家庭关系", RELATION_CHOICES, {"儿子": "child", "女儿": "child", "丈夫": "spouse",
                                                 "妻子": "spouse", "父亲": "parent", "母亲": "parent"})


@register
class RelationSheet(PersonRowsMixin, SheetKind):
    """家庭关系 (亲属是参保人的 …): key = (参保人, 亲属); the same relation again is 无变化,
    another one an error; a contradicting reverse relation (recorded or in the file) is an
    error."""

    name = "relations"
    model = FamilyRelation
    writes = ("enrollment.FamilyRelation",)
    label = "家庭关系"
    import_permission = "enrollment.add_familyrelation"

    def __init__(self):
        self.columns = [
            Column("document_number", "参保人证件号码", document_number_cell, required=True,
                   description="须为已登记的参保人", attribute="person__document_number", mask=masked_id),
            Column("name", "参保人姓名", text, attribute="person__name", mask=masked_name),
            Column("relation", "亲属是参保人的", RELATIONS, required=True, aliases=("关系", "与参保人关系"),
                   description=RELATIONS.describe()),
            Column("relative_number", "亲属证件号码", document_number_cell, required=True,
                   description="须为已登记的参保人", attribute="relative__document_number", mask=masked_id),
            Column("relative_name", "亲属姓名", text, attribute="relative__name", mask=masked_name),
            Column("note", "备注", text, default=""),
        ]

    def start(self, ctx):
        ctx.state["pairs"] = {}  # (person id, relative id) → (row number, relation)

    def check(self, rows, ctx):
        numbers = {r["document_number"] for r in rows} | {r["relative_number"] for r in rows}
        data = dict(zip(("persons", "visible"), self._persons(ctx, numbers), strict=True))
        work = []
        for row in rows:
            person = self._person(ctx, row, data, "document_number", "name")
            relative = self._person(ctx, row, data, "relative_number", "relative_name")
            if person is None or relative is None:
                continue
            if person.pk == relative.pk:
                ctx.error(row, "relative_number", "不能与本人建立家庭关系")
                continue
            pairs = ctx.state["pairs"]
            if (person.pk, relative.pk) in pairs:
                ctx.error(row, "relative_number", f"这两人之间的关系与第 {pairs[(person.pk, relative.pk)][0]} 行重复")
                continue
            reverse = pairs.get((relative.pk, person.pk))
            if reverse is not None and INVERSE_RELATION.get(row["relation"]) != reverse[1]:
                ctx.error(row, "relation", f"与第 {reverse[0]} 行登记的关系矛盾")
                continue
            pairs[(person.pk, relative.pk)] = (row.number, row["relation"])
            work.append((row, person, relative))
        existing = {}
        if work:
            for fr in FamilyRelation.objects.filter(person_id__in={p.pk for _r, p, _x in work}):
                existing[(fr.person_id, fr.relative_id)] = fr
        planned = []
        for row, person, relative in work:
            recorded = existing.get((person.pk, relative.pk))
            if recorded is not None:
                if recorded.relation == row["relation"]:
                    ctx.count("unchanged")
                else:
                    names = [mask_for_user_or_system(ctx.user, "name", p.name) for p in (relative, person)]
                    ctx.error(row, "relation", f"已登记“{names[0]} 是 {names[1]} 的"
                                               f"{recorded.get_relation_display()}”，与本行不一致")
                continue
            obj = FamilyRelation(person=person, relative=relative, relation=row["relation"], note=row["note"])
            try:
                obj.full_clean(validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                self._report(ctx, row, exc, {"relative": "relative_number", None: "relation"})
                continue
            ctx.count("created")
            planned.append((row.number, obj))
        return planned

    def write(self, planned, ctx):
        for number, obj in planned:
            written(services.relation_add, number, person=obj.person, relative=obj.relative,
                     relation=obj.relation, note=obj.note, acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        persons = Person.objects.all() if user is None else selectors.persons_visible_to(user)
        return (FamilyRelation.objects.filter(person__in=persons)
                .select_related("person", "relative").order_by("pk"))
