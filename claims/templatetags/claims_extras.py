"""Template filters of the claims pages: amounts as every page shows them (1,234.56),
percentages, sums of result lines, dictionary look-ups, scheme names."""
from decimal import Decimal

from django import template

from insurance_rules.common import percent as percent_text
from insurance_rules.money import ZERO
from insurance_rules.vocab import scheme_kind_name
from policies.display import money_text

register = template.Library()


@register.filter
def yuan(value):
    """An amount as every page shows it (``policies.display.money_text``); empty for none."""
    return money_text(value, empty="")


@register.filter
def percent(value):
    if value in (None, ""):
        return ""
    return percent_text(Decimal(str(value)))


@register.filter
def sum_paid(rows):
    return sum((r.paid for r in rows), ZERO)


@register.filter
def minus(total, rows):
    """``total − Σ paid`` of the rows (the patient's share)."""
    return total - sum((r.paid for r in rows), ZERO)


@register.filter
def get(mapping, key):
    return mapping.get(key, "") if mapping else ""


@register.filter
def scheme_name(kind):
    return scheme_kind_name(kind)


def _has_field(model, name: str) -> bool:
    return any(f.name == name for f in model._meta.get_fields())


@register.filter
def param_ref(ref) -> str:
    """A stored parameter reference (``{"table", "id", "values"}``) as a clerk reads it:
    the rule table's Chinese name, then each value the formula read under its field's
    Chinese name, shown as the history pages show values (``field_value_text``: choices by
    their label, flags 是/否); unset values are left out."""
    from django.apps import apps
    from django.core.exceptions import FieldDoesNotExist, ValidationError

    from policies.history_display import field_value_text

    try:
        model = apps.get_model("policies", ref.get("table", ""))
    except (LookupError, ValueError):
        return "参数行"
    parts = []
    for name, value in (ref.get("values") or {}).items():
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if value in (None, "", "None"):
            continue
        if name == "code" and _has_field(model, "name"):  # an internal code: the row's name instead
            label = model._default_manager.filter(pk=ref.get("id")).values_list("name", flat=True).first()
            if label:
                parts.append(f"{model._meta.get_field('name').verbose_name} {label}")
            continue
        try:  # stored as text (str of the value): back to the field's type
            value = field.to_python(value)
        except ValidationError:
            pass
        parts.append(f"{field.verbose_name} {field_value_text(field, value)}")
    return f"{model._meta.verbose_name}：{'，'.join(parts)}" if parts else str(model._meta.verbose_name)
