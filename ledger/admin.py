"""记账凭证 (read-only, region-scoped) and the 基金余额表 of the fund ledger (docs/money.md).
Nothing here writes: journals are booked by the services of the business acts."""
from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html

from listing.filters import RegionListFilter
from listing.paging import EstimatedCountPaginator
from listing.read_only import ReadOnlyAdminMixin
from policies.access import RegionScopedAdminMixin, user_region_ids, user_sees_all_regions
from policies.display import money_text
from policies.list_filters import PlanYearListFilter
from policies.models import MONEY, Region, Scheme

from . import selectors, services
from .models import Account, Entry, Journal

LIVE_ADVANCE_AT = 20_000
"""More entries than this after the watermark (the beat's advances were missed: a
broker down, a posting open at every try): the page queues an advance."""

SOURCE_PAGES = {"payment": "admin:enrollment_payment_change", "claim": "admin:claims_claim_change",
                "refund": "admin:enrollment_refund_change"}


class EntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Entry
    fields = ["account", "debit", "credit"]
    readonly_fields = ["account", "debit", "credit"]
    extra = 0

    @admin.display(description="借方（元）")
    def debit(self, entry):
        return money_text(entry.amount) if entry.amount > 0 else ""

    @admin.display(description="贷方（元）")
    def credit(self, entry):
        return money_text(-entry.amount) if entry.amount < 0 else ""


@admin.register(Journal)
class JournalAdmin(ReadOnlyAdminMixin, RegionScopedAdminMixin, admin.ModelAdmin):
    region_field = "region"
    list_display = ["__str__", "kind", "scheme", "year", "booked_on", "person_name", "source",
                    "amount", "memo", "reversal_state"]
    list_filter = ["kind", "scheme__kind", PlanYearListFilter, ("region", RegionListFilter)]
    list_select_related = ["scheme__region", "person", "reversed_by"]
    search_fields = ["=id", "=source_id", "=reference", "=person__document_number"]
    search_help_text = "按凭证号、单据编号、外部单号或参保人完整证件号码（精确）查找"
    # no date_hierarchy (DISTINCT years over every journal): the 基金年度 filter
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fields = ["kind", "scheme", "year", "booked_on", "person_name", "source", "memo", "reference",
              "reverses", "reversal_state", "created_at", "created_by"]
    readonly_fields = fields
    inlines = [EntryInline]
    change_list_template = "admin/ledger/journal/change_list.html"

    def get_queryset(self, request):
        # a scalar subquery, not a join + GROUP BY: PostgreSQL evaluates it only for the
        # page's rows while it walks the (-id) index, instead of summing every journal
        debits = (Entry.objects.filter(journal=OuterRef("pk"), amount__gt=0).order_by()
                  .values("journal").annotate(total=Sum("amount")).values("total"))
        return super().get_queryset(request).annotate(
            debit_total=Subquery(debits, output_field=DecimalField(**MONEY)))

    @admin.display(description="金额（元）", ordering="debit_total")
    def amount(self, journal):
        return money_text(journal.debit_total)

    @admin.display(description="参保人", ordering="person__name")
    def person_name(self, journal):
        return journal.person.name if journal.person_id else "—"

    @admin.display(description="业务单据")
    def source(self, journal):
        label = f"{journal.get_source_kind_display()}（编号{journal.source_id}）"
        try:
            url = reverse(SOURCE_PAGES[journal.source_kind], args=[journal.source_id])
        except (KeyError, NoReverseMatch):
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description="冲正情况")
    def reversal_state(self, journal):
        if journal.kind == Journal.Kind.REVERSAL:
            return f"冲正{journal.reverses}" if journal.reverses_id else "冲正"
        reversal = getattr(journal, "reversed_by", None)
        return f"已被{reversal}冲正" if reversal else "—"

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_balances"
        return [path("balances/", self.admin_site.admin_view(self.balances_view), name=name),
                *super().get_urls()]

    def balances_view(self, request):
        """基金余额表: per fund and year, each account's balance (sums of the entries)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        region_ids = None if user_sees_all_regions(request.user) else user_region_ids(request.user)
        year = request.GET.get("year")
        year = int(year) if year and year.isdigit() else None
        found = selectors.fund_balances(region_ids=region_ids, year=year)
        if sum(row["live"] for row in found) > LIVE_ADVANCE_AT:  # the beat's advances missed some
            _advance_later()
        schemes = Scheme.objects.in_bulk({row["scheme"] for row in found})
        regions = Region.objects.in_bulk({row["region"] for row in found})
        table: dict[tuple, dict] = {}
        for row in sorted(found, key=lambda r: (regions[r["region"]].name, r["scheme"], r["year"])):
            key = (regions[row["region"]].name, schemes[row["scheme"]].name, row["year"])
            table.setdefault(key, {})[row["account"]] = row["total"]
        accounts = list(Account)
        rows = [{"region": region, "scheme": scheme, "year": y,
                 "cells": [_side(balances.get(a)) for a in accounts]}
                for (region, scheme, y), balances in table.items()]
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "基金余额表",
                   "accounts": [a.label for a in accounts], "rows": rows, "year": year}
        return TemplateResponse(request, "admin/ledger/journal/balances.html", context)


def _advance_later():
    try:
        services.fund_balances_advance_task.delay()
    except Exception:  # noqa: BLE001  the page stays exact; the nightly job catches up
        pass


def _side(total):
    """A balance as the accountant reads it: 借 for a debit balance, 贷 for a credit one."""
    if not total:
        return "—"
    return f"借 {money_text(total)}" if total > 0 else f"贷 {money_text(-total)}"
