"""Sheet kinds of the finance app: the files of 对账 (docs/money.md §对账,
docs/spreadsheets.md §对账文件).

- ``tax_collection`` (税务征收明细): one row = one collection of the tax bureau; the rows
  go to one run per (险种, month of 缴费日期) and are matched against the payments.
- ``hospital_settlement`` (医院结算清单): one row = one settlement of a hospital; one run
  per (医疗机构, month of 结算日期), matched against the hospital's claims.

All-or-nothing like every kind (``sheets.engine``): a bad row (unknown region, scheme or
hospital, another region's, a number twice in the file, a bad cell) refuses the whole file
with every error named by row and column. Writes go through
``finance.services.reconciliation``: each chunk is matched in bulk, and ``finish`` adds
what the file lacks once the last chunk is written. The export is the current runs'
lines with their result.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from claims.models import Hospital
from enrollment.sheet_kinds.columns import ID_ALIASES, SCHEME_KINDS, document_number_cell
from finance.models import ReconciliationLine, ReconciliationRun
from finance.selectors.reconciliation import category_label
from finance.services import reconciliation as services
from policies import models as pm
from policies.access import scope_queryset
from policies.lookups import RegionLookup
from policies.masking import masked_id
from sheets.parsing import normalise_text, number_text, parse_date, parse_decimal, parse_int, text
from sheets.registry import Column, SheetKind, register

Source = ReconciliationRun.Source


def _receipt(value) -> str:
    return number_text(value, "票据号/流水号")


def _settlement_no(value) -> str:
    return number_text(value, "医院结算单号")


def _hospital_code(value) -> str:
    return number_text(value, "医疗机构编码")


def _result_columns() -> list[Column]:
    """What an export adds to the file's columns: the result of the match."""
    return [
        Column("month", "对账月份", export_only=True, export=lambda line, r: services.month_words(line.run.month)),
        Column("category", "对账结果", export_only=True,
               export=lambda line, r: category_label(line.category, line.run.source)),
        Column("our_amount", "本系统金额", export_only=True),
        Column("detail", "差异说明", export_only=True),
        Column("state", "处理状态", export_only=True, export=lambda line, r: line.get_state_display()),
    ]


class _ReconciliationSheet(SheetKind):
    model = ReconciliationLine
    import_permission = "finance.import_reconciliation"
    writes = ("finance.ReconciliationRun", "finance.ReconciliationLine")
    source = ""

    def start(self, ctx):
        ctx.state.update(seen={}, runs={})

    def write(self, planned, ctx):
        groups = defaultdict(list)
        for key, region, fund, row in planned:
            groups[(key, services.month_of(row.occurred_on))].append((region, fund, row))
        for (key, month), items in groups.items():
            run = ctx.state["runs"].get((key, month))
            if run is None:
                region, fund, _row = items[0]
                run = ctx.state["runs"][(key, month)] = services.reconciliation_run_open(
                    source=self.source, region=region, month=month, file_name=Path(ctx.result.file_name).name,
                    acting_user=ctx.user, **{"scheme" if self.source == Source.TAX else "hospital": fund})
            services.reconciliation_rows_add(run=run, rows=[row for _r, _f, row in items], acting_user=ctx.user)
        ctx.count("created", len(planned))

    def finish(self, ctx):
        for run in ctx.state["runs"].values():
            services.reconciliation_run_complete(run=run, acting_user=ctx.user)

    def export_queryset(self, user, *, region=None, year=None):
        qs = ReconciliationLine.objects.filter(run__source=self.source, run__is_current=True).select_related(
            "run__region", "run__scheme", "run__hospital").order_by("-run__month", "run_id", "row", "pk")
        if user is not None:
            qs = scope_queryset(qs, user, "run__region")
        if region is not None:
            qs = qs.filter(run__region=region)
        if year is not None:
            qs = qs.filter(run__month__year=year)
        return qs


@register
class TaxCollectionSheet(_ReconciliationSheet):
    """税务征收明细: key = (险种, 票据号/流水号); compared with the payment's 个人缴费."""

    name = "tax_collection"
    label = "税务征收明细"
    source = Source.TAX

    def __init__(self):
        self.regions = RegionLookup()
        self.columns = [
            Column("receipt_no", "票据号/流水号", _receipt, required=True, attribute="reference",
                   aliases=("票据号", "流水号", "票据/流水号", "票据号码", "电子税票号码"),
                   description="同一险种内不能重复；与缴费记录的票据/流水号对照"),
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
                   mask=masked_id),
            Column("name", "姓名", text, default=""),
            Column("region", "统筹区", self.regions, required=True, attribute="run__region",
                   description="行政区划代码或名称，如 500231 或 垫江县"),
            Column("scheme", "险种", text, required=True, aliases=("险种类别", "险种名称", "征收品目"),
                   attribute="run__scheme__name",
                   description=f"险种类别代码或名称，或险种名称：{SCHEME_KINDS.describe()}"),
            Column("year", "年度", parse_int, required=True, aliases=("参保年度", "缴费年度", "所属年度")),
            Column("amount", "金额", parse_decimal, required=True,
                   aliases=("金额（元）", "征收金额", "实缴金额", "缴费金额"),
                   description="元；与缴费记录的个人缴费对照（资助部分不经税务征收）"),
            Column("paid_date", "缴费日期", parse_date, required=True, attribute="occurred_on",
                   aliases=("征收日期", "入库日期"), description="按缴费日期所在月份对账"),
            *_result_columns(),
        ]

    def start(self, ctx):
        super().start(ctx)
        ctx.state["schemes"] = list(pm.Scheme.objects.select_related("region"))
        ctx.state["scheme_of"] = {}

    def _scheme(self, ctx, region, value):
        key = (region.pk, text(value))
        if key not in ctx.state["scheme_of"]:
            schemes = [s for s in ctx.state["schemes"] if s.region_id == region.pk]
            try:
                kind = SCHEME_KINDS(value)
            except Exception:  # noqa: BLE001 - not a kind: maybe the scheme's name
                kind = None
            found = next((s for s in schemes if s.kind == kind or normalise_text(s.name) == normalise_text(value)),
                         None)
            if found is None:
                names = "、".join(s.name for s in schemes) or "无"
                found = f"{region.name}没有险种“{text(value)}”；该统筹区的险种：{names}"
            ctx.state["scheme_of"][key] = found
        return ctx.state["scheme_of"][key]

    def check(self, rows, ctx):
        planned = []
        seen = ctx.state["seen"]
        for row in rows:
            region = row["region"]
            if not ctx.in_scope(region.pk):
                ctx.error(row, "region", f"统筹区“{region.name}”不属于您负责的统筹区")
                continue
            scheme = self._scheme(ctx, region, row["scheme"])
            if isinstance(scheme, str):
                ctx.error(row, "scheme", scheme)
                continue
            key = (scheme.pk, row["receipt_no"])
            if key in seen:
                ctx.error(row, "receipt_no", f"票据号/流水号与第 {seen[key]} 行重复（同一险种内不能重复）")
                continue
            seen[key] = row.number
            planned.append((scheme.pk, region, scheme,
                            services.FileRow(row.number, row["receipt_no"], row["document_number"], row["name"],
                                             row["paid_date"], row["amount"], row["year"])))
        return planned


@register
class HospitalSettlementSheet(_ReconciliationSheet):
    """医院结算清单: key = (医疗机构编码, 医院结算单号); compared with the claim's 基金支付合计."""

    name = "hospital_settlement"
    label = "医院结算清单"
    source = Source.HOSPITAL

    def __init__(self):
        self.columns = [
            Column("hospital_code", "医疗机构编码", _hospital_code, required=True, attribute="run__hospital__code",
                   aliases=("机构编码", "定点医药机构编码"), description="须为已登记的医疗机构"),
            Column("settlement_no", "医院结算单号", _settlement_no, required=True, attribute="reference",
                   aliases=("结算单号", "结算流水号"), description="同一医疗机构内不能重复；与理赔结算的医院结算单号对照"),
            Column("document_number", "证件号码", document_number_cell, required=True, aliases=ID_ALIASES,
                   mask=masked_id),
            Column("name", "姓名", text, default=""),
            Column("settled_on", "结算日期", parse_date, required=True, attribute="occurred_on",
                   aliases=("结算时间",), description="按结算日期所在月份对账（本系统按出院日期，门诊按就诊日期）"),
            Column("amount", "基金支付金额", parse_decimal, required=True,
                   aliases=("基金支付", "基金支付合计", "基金支付金额（元）"),
                   description="元；与理赔结算的基金支付合计对照"),
            *_result_columns(),
        ]

    def start(self, ctx):
        super().start(ctx)
        ctx.state["hospitals"] = {}

    def check(self, rows, ctx):
        hospitals = ctx.state["hospitals"]
        missing = {row["hospital_code"] for row in rows} - set(hospitals)
        if missing:
            found = {h.code: h for h in Hospital.objects.filter(code__in=missing).select_related("region")}
            hospitals.update({code: found.get(code) for code in missing})
        planned = []
        seen = ctx.state["seen"]
        for row in rows:
            hospital = hospitals[row["hospital_code"]]
            if hospital is None:
                ctx.error(row, "hospital_code", "未登记的医疗机构，请先导入或登记医疗机构")
                continue
            if hospital.region_id is None:
                ctx.error(row, "hospital_code", f"医疗机构“{hospital.name}”不属于本系统的任何统筹区，不能对账")
                continue
            if not ctx.in_scope(hospital.region_id):
                ctx.error(row, "hospital_code", f"医疗机构“{hospital.name}”不在您负责的统筹区")
                continue
            key = (hospital.pk, row["settlement_no"])
            if key in seen:
                ctx.error(row, "settlement_no", f"医院结算单号与第 {seen[key]} 行重复（同一医疗机构内不能重复）")
                continue
            seen[key] = row.number
            planned.append((hospital.pk, hospital.region, hospital,
                            services.FileRow(row.number, row["settlement_no"], row["document_number"], row["name"],
                                             row["settled_on"], row["amount"])))
        return planned
