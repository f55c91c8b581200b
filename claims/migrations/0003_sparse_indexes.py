"""The claims table's indexes that a settlement's UPDATE had to maintain for nothing
(issue 17 §4, docs/benchmarks.md): the foreign-key indexes Django made of person, region
and hospital lead other indexes already (claim_person_year, claim_region_recent, the
unique (hospital, settlement_no)) and are dropped; those of the links most claims leave
NULL (disease, settled_by, approved_by, paid_by, resettle_cause, reversed_by, created_by)
become partial indexes of the rows that have one.

The fields' ``db_index=False`` is a state change only: Django's ``AlterField`` would drop
and re-add each foreign-key constraint (a check of every row on PostgreSQL, a copy of the
table on SQLite) to drop an index; here the index Django named for the field is dropped
by name, and made again on the way back."""


import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


DROPPED = ["person", "region", "hospital", "disease", "settled_by", "approved_by", "paid_by",
           "resettle_cause", "reversed_by", "created_by"]


def _field_indexes(apps, schema_editor):
    model = apps.get_model("claims", "Claim")
    for name in DROPPED:
        field = model._meta.get_field(name)
        yield model, field, schema_editor._create_index_name(model._meta.db_table, [field.column], suffix="")


def drop_field_indexes(apps, schema_editor):
    for _, _, index in _field_indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def restore_field_indexes(apps, schema_editor):
    for model, field, _ in _field_indexes(apps, schema_editor):
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0002_flag_indexes'),
        ('enrollment', '0005_payment_channel_index'),
        ('policies', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='claim',
                    name='approved_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='审核人'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='created_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='录入人'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='disease',
                    field=models.ForeignKey(blank=True, db_index=False, help_text='门诊慢特病/两病必填', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='policies.chronicdisease', verbose_name='病种'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='hospital',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='claims.hospital', verbose_name='医疗机构'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='paid_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='支付登记人'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='enrollment.person', verbose_name='参保人'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='region',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='claims', to='policies.region', verbose_name='参保统筹区'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='resettle_cause',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='claims.claim', verbose_name='引起重新结算的理赔'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='reversed_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='冲正人'),
                ),
                migrations.AlterField(
                    model_name='claim',
                    name='settled_by',
                    field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='结算人'),
                ),
            ],
            database_operations=[migrations.RunPython(drop_field_indexes, restore_field_indexes)],
        ),
        # partial indexes of the links most claims leave NULL
        *(migrations.AddIndex(model_name='claim', index=models.Index(
            condition=models.Q((f'{name}__isnull', False)), fields=[name], name=f'claim_{name}'))
          for name in ['disease', 'settled_by', 'approved_by', 'paid_by', 'resettle_cause', 'reversed_by',
                       'created_by']),
    ]
