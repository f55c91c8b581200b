"""Shared by the enrollment sheet kinds that name persons by document number (registrations,
identities, relations): finding the row's person among those the user may see, and turning a
service's refusal in the writing pass into an error that rolls the whole import back."""
from __future__ import annotations

from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from enrollment import selectors
from enrollment.models import Person
from insurance_rules.errors import CaseError
from policies.masking import mask_for_user_or_system
from sheets.report import messages_by_field


def written(call, number: int, *args, **kwargs):
    """Run a service in pass 2; a refusal (a concurrent change since pass 1) becomes an
    IntegrityError, which the engine reports and rolls everything back on."""
    try:
        return call(*args, **kwargs)
    except (ValidationError, CaseError) as exc:
        message = "；".join(exc.messages) if isinstance(exc, ValidationError) else exc.message
        raise IntegrityError(f"第 {number} 行：{message}") from exc


class PersonRowsMixin:
    """Persons of a chunk by document number, and which of them the user may see."""

    def _persons(self, ctx, numbers) -> tuple[dict, set | None]:
        persons = defaultdict(list)
        for person in Person.objects.filter(document_number__in=numbers):
            persons[person.document_number].append(person)
        visible = None
        if not ctx.sees_all:
            ids = [p.pk for found in persons.values() for p in found]
            visible = set(selectors.persons_visible_to(ctx.user, Person.objects.filter(pk__in=ids))
                          .values_list("pk", flat=True))
        return persons, visible

    def _person(self, ctx, row, data, number_key, name_key, document_type=None):
        found = data["persons"].get(row[number_key], [])
        if document_type:
            found = [p for p in found if p.document_type == document_type]
        if not found:
            ctx.error(row, number_key, "未登记的参保人，请先导入或登记参保人")
            return None
        if len(found) > 1:
            ctx.error(row, number_key, "该号码对应多名参保人（证件类型不同），请填写证件类型")
            return None
        person = found[0]
        if data["visible"] is not None and person.pk not in data["visible"]:
            ctx.error(row, number_key, "该参保人不属于您负责的统筹区")
            return None
        if row[name_key] and row[name_key] != person.name:
            shown = mask_for_user_or_system(ctx.user, "name", person.name)
            ctx.error(row, name_key, f"姓名与证件号码登记的姓名“{shown}”不一致")
            return None
        return person

    def _report(self, ctx, row, exc, mapping) -> None:
        for field, messages in messages_by_field(exc).items():
            key = mapping.get(field, field if any(c.key == field for c in self.columns) else None)
            for message in messages:
                ctx.error(row, key, message, value=None if key in row.present else "")
