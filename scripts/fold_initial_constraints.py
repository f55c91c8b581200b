"""Fold the constraints and indexes of freshly generated ``0001_initial`` migrations into
their models' ``CreateModel`` (``python scripts/fold_initial_constraints.py APP...``).

``makemigrations`` on an empty migrations folder writes each constraint as a separate
``AddConstraint`` after all the models; on SQLite each one rebuilds its table. Folded into
``CreateModel(options={"constraints": [...]})`` the tables are created with them, and the
migration state is rendered fewer times. A constraint on a field added later by ``AddField``
(a circular foreign key) stays where it is. Used once to squash the migrations (issue 13):

    for app in policies enrollment claims reports; do rm $app/migrations/0*.py; done
    python manage.py makemigrations policies enrollment claims reports
    python scripts/fold_initial_constraints.py policies enrollment claims reports
    python manage.py makemigrations --check --dry-run
"""
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.db.migrations import operations as ops  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.db.migrations.writer import MigrationWriter  # noqa: E402


def field_names(item) -> set[str]:
    """The fields a constraint or index names, including those in its condition/check."""
    names = set(getattr(item, "fields", ()) or ())
    for expression in [*getattr(item, "expressions", ()), getattr(item, "condition", None)]:
        if expression is not None and hasattr(expression, "flatten"):
            names |= {child[0].split("__")[0] for child in expression.flatten()
                      if isinstance(child, tuple)}
    return names


def fold(migration) -> None:
    creates = {op.name_lower: op for op in migration.operations if isinstance(op, ops.CreateModel)}
    kept = []
    for op in migration.operations:
        target = creates.get(getattr(op, "model_name_lower", None))
        if isinstance(op, ops.AddConstraint):
            key, item = "constraints", op.constraint
        elif isinstance(op, ops.AddIndex):
            key, item = "indexes", op.index
        else:
            kept.append(op)
            continue
        if target is None or not field_names(item) <= {name for name, _field in target.fields}:
            kept.append(op)
            continue
        target.options[key] = [*target.options.get(key, []), item]
    migration.operations = kept


def main(apps: list[str]) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    for app in apps:
        migration = loader.disk_migrations[(app, "0001_initial")]
        fold(migration)
        writer = MigrationWriter(migration)
        Path(writer.path).write_text(writer.as_string(), encoding="utf-8")
        print(f"{app}: {len(migration.operations)} operations")


if __name__ == "__main__":
    main(sys.argv[1:])
