"""Permission names in Chinese. Django names the default permissions of a model in English
when it creates them (“Can add 参保人”, “Can view historical 参保人”); the superuser reads
them on the group and user pages. After every ``migrate`` they are renamed “可新增参保人”,
“可查看参保人（历史记录）” …, from the models' Chinese names."""
from __future__ import annotations

from django.apps import apps
from django.utils import translation

VERBS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}


def after_migrate(sender, **kwargs) -> None:
    """post_migrate receiver: once per ``migrate``, after the last app's permissions exist."""
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if sender is with_models[-1]:
        permission_names_sync(using=kwargs.get("using", "default"))


def permission_names_sync(*, using: str = "default") -> int:
    """Rename the default permissions of every installed model; returns how many changed."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    changed = []
    with translation.override("zh-hans"):
        by_type = {ct.pk: ct for ct in ContentType.objects.using(using)}
        for perm in Permission.objects.using(using):
            verb, _, model_name = perm.codename.partition("_")
            ct = by_type.get(perm.content_type_id)
            if verb not in VERBS or ct is None or model_name != ct.model:
                continue
            try:
                model = apps.get_model(ct.app_label, ct.model)
            except LookupError:
                continue
            history_of = getattr(model, "instance_type", None)  # simple-history's models
            if history_of is not None:
                noun = f"{history_of._meta.verbose_name}（历史记录）"
            else:
                noun = str(model._meta.verbose_name)
            name = f"可{VERBS[verb]}{noun}"[:255]
            if perm.name != name:
                perm.name = name
                changed.append(perm)
    # one UPDATE per batch, not one per permission (a new database renames all ≈ 570)
    Permission.objects.using(using).bulk_update(changed, ["name"], batch_size=500)
    return len(changed)
