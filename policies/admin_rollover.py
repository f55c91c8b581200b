"""Plan-year rollover in the admin (spec README §5 “Rolling a plan year forward copies
every row into a new draft plan year”; docs/policy-fixtures.md §结转): two object tools
of the plan-year page for the 政策管理员 role —

- “复制为新年度草稿”: a form asking the target year, then ``plan_year_rollover`` (the
  service of ``manage.py rollover_plan_year``); the new draft opens, its rule tables
  editable for review;
- “生效” (on a draft): a confirmation page naming the scheme's other active plan years,
  then ``plan_year_set_status`` (draft → active). Activating a year does not close the
  previous one (plan_status: only draft → active → closed, each by its own step): it
  stays active for the claims of its year until an officer closes it.

Both need ``policies.add_planyear`` and ``policies.change_planyear`` (the 政策管理员 role,
policies/roles.py) and the plan year's region; anyone else gets 403.
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from .access import user_can_access
from .errors import PlanYearRolloverError
from .models import PlanYear
from .plan_status import plan_year_set_status
from .services import plan_year_rollover

ROLLOVER_PERMISSIONS = ("policies.add_planyear", "policies.change_planyear")


class RolloverForm(forms.Form):
    to_year = forms.IntegerField(label="新年度", min_value=2000, max_value=2100,
                                 help_text="复制本年度方案的全部参数行，日期顺延相应年数，生成该年度的草稿")


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label="我已核对全部参数，确认生效", required=True)


class PlanYearRolloverMixin:
    """Object tools 复制为新年度草稿 / 生效 of ``PlanYearAdmin`` (module docstring)."""

    def can_rollover(self, request, obj) -> bool:
        return (obj is not None and request.user.has_perms(ROLLOVER_PERMISSIONS)
                and user_can_access(request.user, obj, "scheme__region"))

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/rollover/", wrap(self.rollover_view), name=f"{name}_rollover"),
            path("<path:object_id>/activate/", wrap(self.activate_view), name=f"{name}_activate"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if self.can_rollover(request, obj):
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}"
            extra_context["rollover_url"] = reverse(f"{name}_rollover", args=[obj.pk])
            if obj.status == PlanYear.Status.DRAFT:
                extra_context["activate_url"] = reverse(f"{name}_activate", args=[obj.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _officer_object(self, request, object_id) -> PlanYear:
        obj = self.get_object(request, unquote(object_id))  # scoped: another region → None
        if obj is None:
            raise Http404("年度方案不存在或不属于您负责的统筹区")
        if not self.can_rollover(request, obj):
            raise PermissionDenied("只有政策管理员可以结转或启用年度方案")
        return obj

    def _page(self, request, obj, *, title, form, **context):
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        return TemplateResponse(request, "admin/policies/plan_year_tool.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj,
            "title": title, "form": form, "change_url": change_url, **context})

    def rollover_view(self, request, object_id):
        obj = self._officer_object(request, object_id)
        taken = set(PlanYear.objects.filter(scheme=obj.scheme).values_list("year", flat=True))
        suggestion = obj.year + 1
        while suggestion in taken:
            suggestion += 1
        form = RolloverForm(request.POST or None, initial={"to_year": suggestion})
        if request.method == "POST" and form.is_valid():
            try:
                draft = plan_year_rollover(region_code=obj.scheme.region.code, kind=obj.scheme.kind,
                                           from_year=obj.year, to_year=form.cleaned_data["to_year"],
                                           acting_user=request.user)
            except PlanYearRolloverError as exc:
                form.add_error("to_year", str(exc))
            else:
                messages.success(request, f"已由“{obj}”生成草稿“{draft}”：请逐项核对参数表，"
                                          "核对无误后点击“生效”")
                return HttpResponseRedirect(reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[draft.pk]))
        return self._page(request, obj, title=f"复制为新年度草稿：{obj}", form=form,
                          submit="生成草稿", years=sorted(taken))

    def activate_view(self, request, object_id):
        obj = self._officer_object(request, object_id)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if obj.status != PlanYear.Status.DRAFT:
            messages.error(request, f"年度方案“{obj}”不是草稿，不能再次生效")
            return HttpResponseRedirect(change_url)
        form = ConfirmForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                plan_year_set_status(plan_year=obj, status=PlanYear.Status.ACTIVE, acting_user=request.user)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"年度方案“{obj.scheme} {obj.year} 年度”已生效")
            return HttpResponseRedirect(change_url)
        others = PlanYear.objects.filter(scheme=obj.scheme, status=PlanYear.Status.ACTIVE).order_by("year")
        return self._page(request, obj, title=f"启用年度方案：{obj}", form=form, submit="确认生效",
                          activating=True, others=list(others))
