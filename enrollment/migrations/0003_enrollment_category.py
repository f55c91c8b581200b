"""The enrollment's 人员类别 (``Enrollment.category``: the person's current category, kept
in step; docs/enrollment.md §人员类别) filled from the persons, and the indexes of the
参保登记 list's 人员类别 and 同意自动续保 filters (issue 17)."""

from django.db import migrations, models

CATEGORIES = [('employee_active', '在职职工'), ('employee_retired', '退休人员'), ('flexible', '灵活就业人员'),
              ('resident', '城乡居民'), ('student', '在校学生/在园幼儿'), ('newborn', '新生儿')]


def fill(apps, schema_editor):
    """Every enrollment (and history row) takes its person's category: one UPDATE each."""
    vendor = schema_editor.connection.vendor
    for table in ("enrollment_enrollment", "enrollment_historicalenrollment"):
        if vendor == "postgresql":
            sql = (f"UPDATE {table} e SET category = p.category FROM enrollment_person p "
                   f"WHERE p.id = e.person_id")
        else:
            sql = (f"UPDATE {table} SET category = (SELECT p.category FROM enrollment_person p "
                   f"WHERE p.id = {table}.person_id) WHERE person_id IS NOT NULL")
        schema_editor.execute(sql)
    if vendor == "postgresql":  # the planner's statistics of the new column (its filter's estimates)
        schema_editor.execute("ANALYZE enrollment_enrollment")


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0002_list_indexes'),
        ('policies', '0001_initial'),
    ]

    operations = [
        *[migrations.AddField(
            model_name=model_name, name='category',
            field=models.CharField(choices=CATEGORIES, default='', editable=False, max_length=20,
                                   verbose_name='人员类别'),
            preserve_default=False,
        ) for model_name in ('enrollment', 'historicalenrollment')],
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name='enrollment',
            index=models.Index(fields=['-plan_year', 'category', '-id'], name='enrollment_category'),
        ),
        migrations.AddIndex(
            model_name='enrollment',
            index=models.Index(fields=['-plan_year', 'auto_renew', '-id'], name='enrollment_auto_renew'),
        ),
    ]
