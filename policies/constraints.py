"""Check constraints validated in one statement.

Django validates each ``CheckConstraint`` of a model by a query of its own (``Q.check``:
``SELECT 1 WHERE <condition>``, on PostgreSQL inside a savepoint, so three statements a
constraint) each time ``full_clean`` runs. ``ChecksInOneQuery`` asks the same conditions
on the same values in one ``SELECT`` (one column per constraint, NULL counting as
satisfied, as Django's ``Coalesce(condition, True)``), and raises the same errors in
the same order; a constraint naming an excluded field is skipped, as Django skips it.
When that statement fails, each constraint is validated by Django as before.
"""
from __future__ import annotations

import logging
from contextlib import nullcontext

from django.core.exceptions import FieldError, ValidationError
from django.db import DatabaseError, connections, router, transaction
from django.db.models import BooleanField, CheckConstraint, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

logger = logging.getLogger(__name__)


def _passed(instance, checks, exclude, using) -> dict:
    """Whether each of ``checks`` (``CheckConstraint`` of ``instance``'s model, by ``id``:
    constraints compare by value, unhashed) holds for ``instance``'s values, asked in one
    statement; ``{}`` when it cannot be asked so."""
    connection = connections[using]
    if len(checks) < 2 or not connection.features.supports_comparing_boolean_expr:
        return {}
    query = Query(None)
    for name, value in instance._get_field_expression_map(meta=instance._meta, exclude=exclude).items():
        query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value),
                             name, select=False)
    columns = {}
    for constraint in checks:
        try:  # a condition naming an excluded field raises here, as in Q.check
            query.add_annotation(Coalesce(Q(constraint.condition), True, output_field=BooleanField()),
                                 f"_check_{len(columns)}")
        except FieldError:
            continue
        columns[id(constraint)] = len(columns)
    if not columns:
        return {}
    # inside a transaction, in a savepoint of its own (a failed statement would end the
    # transaction on PostgreSQL), as Django's ``Q.check``
    try:
        with transaction.atomic(using=using) if connection.in_atomic_block else nullcontext():
            row = query.get_compiler(using=using).execute_sql(SINGLE)
    except DatabaseError as exc:
        logger.warning("Got a database error checking the constraints of %r at once: %s",
                       instance, exc)
        return {}
    return {key: bool(row[i]) for key, i in columns.items()}


class ChecksInOneQuery:
    """Model mixin: ``validate_constraints`` asks every ``CheckConstraint`` of the model
    in one statement (module docstring); other constraints as Django validates them."""

    def validate_constraints(self, exclude=None):
        constraints = self.get_constraints()
        using = router.db_for_write(self.__class__, instance=self)
        own = [c for model, cs in constraints if model is type(self) for c in cs
               if isinstance(c, CheckConstraint)]
        passed = _passed(self, own, exclude, using)
        errors = {}
        for model_class, model_constraints in constraints:
            for constraint in model_constraints:
                try:
                    if id(constraint) in passed:
                        if not passed[id(constraint)]:
                            raise ValidationError(constraint.get_violation_error_message(),
                                                  code=constraint.violation_error_code)
                    else:
                        constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as e:
                    if getattr(e, "code", None) == "unique" and len(constraint.fields) == 1:
                        errors.setdefault(constraint.fields[0], []).append(e)
                    else:
                        errors = e.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
