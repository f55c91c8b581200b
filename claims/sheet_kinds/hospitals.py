"""Sheet kind ``hospitals`` (定点医疗机构目录): spec README §6 (bad input, all-or-nothing);
codes.md (hospital attributes: code or Chinese name). docs/spreadsheets.md lists the columns."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from claims.models import Hospital
from claims.sheet_kinds.columns import (
    ADMIN_LEVELS,
    CHANGE_REASON,
    GRADES,
    LEVELS,
    code_cell,
)
from policies import codes
from policies.lookups import RegionLookup
from sheets.parsing import parse_bool, text
from sheets.registry import Column, SheetKind, register
from sheets.report import messages_by_field


@register
class HospitalSheet(SheetKind):
    """定点医疗机构: key = 机构编码. A known hospital is updated with the row's non-empty
    cells (无变化 when they agree), an unknown one created. The hospital's region must be
    one of the user's regions; a hospital outside every region of the system (所在统筹区
    empty, 所在省份 given) may be entered by any user holding the import permission."""

    name = "hospitals"
    model = Hospital
    writes = ("claims.Hospital",)
    label = "医疗机构"
    import_permission = "claims.import_hospital"

    def __init__(self):
        self.regions = RegionLookup()
        self.columns = [
            Column("code", "机构编码", code_cell, required=True, aliases=("医疗机构编码", "定点机构编码"),
                   description="唯一；重复导入同一机构不会重复登记"),
            Column("name", "机构名称", text, required=True, aliases=("医疗机构名称", "定点机构名称")),
            Column("region", "所在统筹区/区县", self.regions, aliases=("所在统筹区", "所在区县", "统筹区"),
                   description="行政区划代码或名称；空 = 本系统未登记的统筹区（须填所在省份）"),
            Column("province", "所在省份", text, default="", description="所在统筹区为空时必填，如 四川省"),
            Column("level", "医院级别", LEVELS, required=True, description=LEVELS.describe()),
            Column("grade", "等次", GRADES, default=codes.HospitalGrade.UNGRADED,
                   description=f"空 = 未定等。{GRADES.describe()}"),
            Column("admin_level", "行政级别", ADMIN_LEVELS, default=codes.AdminLevel.COUNTY,
                   description=f"空 = 县级。{ADMIN_LEVELS.describe()}"),
            Column("tcm", "中医医疗机构", parse_bool, default=False, description="是/否，空 = 否"),
            Column("children", "儿童医院或妇幼保健院", parse_bool, default=False, description="是/否，空 = 否"),
            Column("public", "公立", parse_bool, default=True, description="是/否，空 = 是"),
            Column("cdrg", "按C-DRG收付费", parse_bool, default=True, aliases=("C-DRG", "按C-DRG付费"),
                   description="是/否，空 = 是"),
            Column("designated", "定点医疗机构", parse_bool, default=True, description="是/否，空 = 是"),
            Column("note", "备注", text, default=""),
        ]
        self.FIELDS = tuple(c.key for c in self.columns)  # the Hospital fields of a row

    def start(self, ctx):
        ctx.state["seen"] = {}

    def _in_scope(self, ctx, region_id) -> bool:
        return region_id is None or ctx.in_scope(region_id)

    def check(self, rows, ctx):
        seen = ctx.state["seen"]
        keyed = []
        for row in rows:
            code = row["code"]
            if code in seen:
                ctx.error(row, "code", f"机构编码与第 {seen[code]} 行重复")
                continue
            seen[code] = row.number
            keyed.append(row)
        existing = {h.code: h for h in Hospital.objects.filter(code__in=[r["code"] for r in keyed])}
        planned = []
        for row in keyed:
            current = existing.get(row["code"])
            if current is None:
                hospital = Hospital(**{f: row.values.get(f) for f in self.FIELDS})
                hospital.province = hospital.province or ""
                if self._validate(row, hospital, ctx):
                    ctx.count("created")
                    planned.append(("create", hospital, None))
                continue
            if not self._in_scope(ctx, current.region_id):
                ctx.error(row, "code", f"机构编码已登记的{current.name}属于"
                                       f"{self.regions.get(current.region_id)}，不在您负责的统筹区，不能修改")
                continue
            hospital = Hospital(**{f.attname: getattr(current, f.attname) for f in Hospital._meta.concrete_fields})
            hospital._state.adding = False
            changed = []
            for field in self.FIELDS:
                if field == "code" or field not in row.filled:
                    continue
                value = row.values[field]
                if field == "region":
                    differs = hospital.region_id != value.pk
                else:
                    differs = getattr(hospital, field) != value
                if differs:
                    setattr(hospital, field, value)
                    changed.append(field)
            if not changed:
                ctx.count("unchanged")
                continue
            if self._validate(row, hospital, ctx):
                ctx.count("updated")
                planned.append(("update", hospital, changed))
        return planned

    def _validate(self, row, hospital, ctx) -> bool:
        ok = True
        if hospital.region_id is None and not hospital.province:
            ctx.error(row, "region", "请填写所在统筹区/区县，或（本系统未登记的统筹区）填写所在省份", value="")
            ok = False
        if not self._in_scope(ctx, hospital.region_id):
            ctx.error(row, "region", f"所在统筹区“{self.regions.get(hospital.region_id)}”不属于您负责的统筹区",
                      value="")
            ok = False
        try:
            hospital.full_clean(exclude=["region"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for field, messages in messages_by_field(exc).items():
                for message in messages:
                    ctx.error(row, field if self.has_column(field) else None, message)
            ok = False
        return ok

    def write(self, planned, ctx):
        new = [h for op, h, _c in planned if op == "create"]
        updates = [(h, c) for op, h, c in planned if op == "update"]
        if new:
            bulk_create_with_history(new, Hospital, batch_size=1000, default_user=ctx.user,
                                     default_change_reason=CHANGE_REASON)
        if updates:
            fields = sorted({f for _h, c in updates for f in c})
            bulk_update_with_history([h for h, _c in updates], Hospital, fields=fields, batch_size=1000,
                                     default_user=ctx.user, default_change_reason=CHANGE_REASON)

    def export_queryset(self, user, *, region=None, year=None):
        # the user's regions, and hospitals outside every region
        qs = self.regions.exported(Hospital.objects.all(), user, "region", region, include_shared=True)
        return qs.select_related("region").order_by("code")
