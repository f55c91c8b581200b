"""Migration operations of this project (used by the squashed ``0001_initial`` migrations).

``CreateModel``: Django's, except that adding the new model to a rendered migration state
renders that model only. Django's own re-renders every model reachable from the new model's
foreign keys (``ProjectState._find_reload_model``); a history model points at ``auth.User``,
which reaches nearly every model, so the 130 models of the initial migrations cost about
14 000 model renders: 20 s of CPU out of 25 s for ``migrate`` on an empty database.
A brand-new model has no older class for related models to point at, so nothing else needs
rendering: registering it clears the registry's caches, and the related models' reverse
relations are recomputed from it. The schema is the same (docs/benchmarks.md: the
``sqlite_master`` and ``pg_dump --schema-only`` of both ways compared).

A state whose models were reloaded with ``delay=True`` (Django's ``AlterField``,
``AddIndex`` … of the third-party migrations applied before ours) stays "delayed" for the
rest of ``migrate``, and then every ``RunPython`` re-renders all the models first
(``ProjectState.clear_delayed_apps_cache``: ≈ 0.5 s each with 180 models, six of them in
our migrations). The first of these ``CreateModel`` to meet a delayed state drops its
rendering instead: the next operation renders every model once, afresh, and the state is
no longer delayed, so the following ``RunPython`` use it as it is. The project's migrations
have no operation that delays (docs/benchmarks.md §Ninth session: migrations folded).

``RunSQLOnPostgreSQL``: Django's ``RunSQL``, on PostgreSQL only (triggers and PL/pgSQL
functions; nothing elsewhere). Unlike a ``RunPython`` that tests the vendor, it needs no
rendered models.
"""
from django.db import migrations
from django.db.migrations.state import ModelState


class CreateModel(migrations.CreateModel):
    """``migrations.CreateModel`` that renders only the new model (module docstring)."""

    def state_forwards(self, app_label, state):
        key = app_label, self.name_lower
        if state.is_delayed and "apps" in state.__dict__:
            # Rendered after delayed reloads (another app's AlterField …): some models may
            # point at outdated classes. Drop the rendering: the next use renders every model
            # once, and nothing is delayed any more (module docstring, ``RunPython``).
            del state.__dict__["apps"]
            state.is_delayed = False
        if key in state.models or "apps" not in state.__dict__:
            super().state_forwards(app_label, state)  # nothing rendered yet, or a re-creation
            return
        state.models[key] = ModelState(app_label, self.name, list(self.fields), dict(self.options),
                                       tuple(self.bases), list(self.managers))
        if state._relations is not None:
            state.resolve_model_relations(key)
        state._reload({key})  # ProjectState.add_model reloads every related model here


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """``migrations.RunSQL`` that runs on PostgreSQL and does nothing on another database
    (module docstring). Give the SQL as a list of statements: each is sent as it is, with
    no parameters (``%`` is PL/pgSQL's)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
