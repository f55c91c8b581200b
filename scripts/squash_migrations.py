"""Squash each app's migrations into one ``0001_initial`` (``python scripts/squash_migrations.py APP...``).

Every app's operations are concatenated in order and passed through Django's migration
optimizer, which folds each ``AddField``/``AlterField``/``AddIndex``/``AddConstraint`` into
the ``CreateModel`` of its model: the tables are created whole, and the migration state is
re-rendered once per model instead of once per operation (``migrate`` spent most of its
time there: docs/benchmarks.md §Suite speed); each ``CreateModel`` is written as
``migration_operations.CreateModel``, which renders only the new model. The dependencies on other apps become
dependencies on their ``0001_initial``.

The ``RunPython``/``RunSQL`` operations (triggers, data) cannot be written out by Django's
serializer: they are left out of the written file and listed, to be copied by hand, in the
order printed, to the end of the new migration with their helper code. Used once for the
squash of issue 13 (fresh project, no deployed database to migrate from):

    python scripts/squash_migrations.py accounts audit claims enrollment finance jobs ledger policies reports
    # copy the listed RunPython/RunSQL operations, then
    python manage.py makemigrations --check --dry-run
"""
import os
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.db import migrations  # noqa: E402
from django.db.migrations import operations as ops  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402
from django.db.migrations.optimizer import MigrationOptimizer  # noqa: E402
from django.db.migrations.writer import MigrationWriter  # noqa: E402

CODE = (migrations.RunPython, migrations.RunSQL)


def referenced_fields(item) -> set[str]:
    """The fields an index or a constraint names, including those in its condition/check."""
    names = {name.lstrip("-") for name in getattr(item, "fields", ()) or ()}
    for expression in [*getattr(item, "expressions", ()), getattr(item, "condition", None)]:
        if expression is not None and hasattr(expression, "flatten"):
            names |= {child[0].split("__")[0] for child in expression.flatten() if isinstance(child, tuple)}
    return names


def fold(operations: list, app: str) -> list:
    """Fold into its model's ``CreateModel`` each later operation on that model which the
    optimizer kept apart only because a ``CreateModel`` in between refers to the model (it
    does not reorder across references). Allowed when what it names already exists there:
    an index's or a constraint's fields, an altered field; a field's related model created
    before, or in another app (a dependency), and no field of the model kept apart before it
    (the columns keep their order). The tables end the same; only the operations that create
    them change."""
    result, created = [], {}  # model name_lower -> its CreateModel's position in result
    appended = set()  # models with an AddField kept apart: their later fields stay after it (column order)

    def related_exists(field, position) -> bool:
        if not field.is_relation:
            return True
        label = field.remote_field.model
        if not isinstance(label, str):
            label = label._meta.label_lower
        if label == "self":
            return True
        target_app, _dot, name = label.lower().rpartition(".")
        return (target_app or app) != app or created.get(name, position) < position

    for operation in operations:
        model = operation.name_lower if isinstance(operation, ops.AlterModelOptions) \
            else getattr(operation, "model_name_lower", None)
        position = created.get(model)
        if position is None or isinstance(operation, ops.CreateModel):
            if isinstance(operation, ops.CreateModel):
                created[operation.name_lower] = len(result)
            result.append(operation)
            continue
        create = result[position]
        fields = dict(create.fields)
        options = dict(create.options)
        if isinstance(operation, (ops.AddIndex, ops.AddConstraint)):
            key, item = ("indexes", operation.index) if isinstance(operation, ops.AddIndex) \
                else ("constraints", operation.constraint)
            ok = referenced_fields(item) <= set(fields)
            options[key] = [*options.get(key, []), item]
        elif isinstance(operation, ops.AddField):
            ok = operation.name not in fields and model not in appended and related_exists(operation.field, position)
            if not ok:
                appended.add(model)
            fields[operation.name] = operation.field
        elif isinstance(operation, ops.AlterField):
            ok = operation.name in fields and related_exists(operation.field, position)
            fields[operation.name] = operation.field
        elif isinstance(operation, ops.AlterModelOptions):
            ok = True
            options.update(operation.options)
            for key in operation.ALTER_OPTION_KEYS:
                if key not in operation.options:
                    options.pop(key, None)
        else:
            ok = False
        if not ok:
            result.append(operation)
            continue
        result[position] = ops.CreateModel(create.name, list(fields.items()), options, create.bases, create.managers)
    return result


def squash(loader: MigrationLoader, app: str, apps: set[str]) -> tuple[migrations.Migration, list]:
    names = sorted(name for app_label, name in loader.disk_migrations if app_label == app)
    operations, code, dependencies = [], [], {}
    for name in names:
        migration = loader.disk_migrations[(app, name)]
        for operation in migration.operations:
            (code if isinstance(operation, CODE) else operations).append((name, operation))
        for dependency in migration.dependencies:
            dep_app = dependency[0]
            if dep_app == app:
                continue
            if dep_app in apps:
                dependencies[(dep_app, "0001_initial")] = (dep_app, "0001_initial")
            elif getattr(dependency, "setting", None) == settings.AUTH_USER_MODEL:  # swappable_dependency()
                dependencies[("__setting__", "AUTH_USER_MODEL")] = ("__setting__", "AUTH_USER_MODEL")
            else:
                dependencies[tuple(dependency)] = tuple(dependency)
    for dep_app, dep_name in list(dependencies):  # a named migration of an app implies its first
        if dep_name != "__first__" and (dep_app, "__first__") in dependencies:
            del dependencies[(dep_app, "__first__")]
    squashed = type("Migration", (migrations.Migration,), {
        "initial": True,
        "dependencies": [dependencies[key] for key in sorted(dependencies)],
        "operations": fold(MigrationOptimizer().optimize([op for _name, op in operations], app), app),
    })("0001_initial", app)
    return squashed, code


def fast_create(text: str) -> str:
    """The written migration with ``migration_operations.CreateModel`` (renders only the new
    model: that module's docstring) in place of Django's."""
    text = text.replace("migrations.CreateModel(", "CreateModel(")
    return text.replace("from django.db import migrations, models\n",
                        "from django.db import migrations, models\n\nfrom migration_operations import CreateModel\n", 1)


def main(apps: list[str]) -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    squashed = {app: squash(loader, app, set(apps)) for app in apps}
    for app, (migration, code) in squashed.items():
        folder = Path(MigrationWriter(migration).basedir)
        for old in folder.glob("0*.py"):
            old.unlink()
        writer = MigrationWriter(migration)
        Path(writer.path).write_text(fast_create(writer.as_string()), encoding="utf-8")
        print(f"{app}: {len(migration.operations)} operations")
        for name, operation in code:
            print(f"    copy from {app}/migrations/{name}.py: {operation.describe()}")


if __name__ == "__main__":
    main(sys.argv[1:])
