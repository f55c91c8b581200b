"""The reviewer's decision on a document's own page, shared by 门诊慢特病登记
(``registrations``) and 退费 (``refunds``): buttons on the change page while the document
awaits a decision, one page per decision (a confirmation, or the reason for 驳回) that
calls the services, and the per-row loop of the changelist actions."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse


def errors_text(exc) -> str:
    """A service's refusal as one Chinese line."""
    return "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="驳回原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class DecisionPageMixin:
    """Declare ``decisions`` (name → label; ``reject`` asks for a reason),
    ``decide_template``, ``approve_permission``, ``missing_text`` (no such document),
    ``no_permission_text``; implement ``awaits_decision(obj)``, ``decided_text(obj)``
    (why no decision is possible any more), ``decide(request, obj, decision, reason)``
    (the services; returns the object; a refusal raises), ``done_text(obj, label)``,
    ``decide_context(request, obj, decision)``, ``row_name(obj)`` (for the actions) and
    ``rows_unit`` (“条登记”)."""

    decisions: dict[str, str] = {}
    decide_template = ""
    approve_permission = ""
    missing_text = "记录不存在或不属于您负责的统筹区"
    no_permission_text = "您没有审核的权限"
    reason_form_class = ReasonForm

    def has_approve_permission(self, request):
        return request.user.has_perm(self.approve_permission)

    def _can_decide(self, request, obj) -> bool:
        return (obj is not None and self.awaits_decision(obj) and self.has_approve_permission(request)
                and self.in_region_scope(request, obj, write=True))

    def get_urls(self):
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        return [path("<path:object_id>/decide/<str:decision>/",
                     self.admin_site.admin_view(self.decide_view), name=f"{info}_decide"),
                *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        obj = self.get_object(request, unquote(object_id))
        if self._can_decide(request, obj):
            info = f"admin:{self.opts.app_label}_{self.opts.model_name}_decide"
            extra_context["decision_buttons"] = [
                {"name": name, "label": label, "url": reverse(info, args=[obj.pk, name])}
                for name, label in self.decisions.items()]
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id, decision):
        obj = self.get_object(request, unquote(object_id))
        if obj is None or decision not in self.decisions:
            raise Http404(self.missing_text)
        change_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])
        if not self._can_decide(request, obj):
            if not self.has_approve_permission(request):
                raise PermissionDenied(self.no_permission_text)
            self.message_user(request, self.decided_text(obj), messages.WARNING)
            return HttpResponseRedirect(change_url)
        label = self.decisions[decision]
        form = None
        if decision == "reject":
            form = self.reason_form_class(request.POST if request.method == "POST" else None)
        if request.method == "POST" and "confirm" in request.POST and (form is None or form.is_valid()):
            try:
                obj = self.decide(request, obj, decision, form.cleaned_data["reason"] if form else "")
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{self.page_name(obj)}未能{label}：{errors_text(exc)}",
                                  messages.ERROR)
            else:
                self.message_user(request, self.done_text(obj, label), messages.SUCCESS)
            return HttpResponseRedirect(change_url)
        return TemplateResponse(request, self.decide_template, {
            **self.admin_site.each_context(request), "opts": self.opts, "original": obj,
            "label": label, "decision": decision, "form": form, "change_url": change_url,
            "has_view_permission": True, **self.decide_context(request, obj, decision)})

    def _each(self, request, queryset, label, call):
        """Run ``call(obj)`` per selected row; each refusal one error message, the count
        of the rows done one success message."""
        done = 0
        for obj in queryset:
            try:
                call(obj)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                self.message_user(request, f"{self.row_name(obj)}未能{label}：{errors_text(exc)}",
                                  messages.ERROR)
        if done:
            self.message_user(request, f"已{label} {done} {self.rows_unit}", messages.SUCCESS)

    rows_unit = "条"

    def page_name(self, obj) -> str:
        """How the decision page's refusal names the document (default: ``row_name``)."""
        return self.row_name(obj)
