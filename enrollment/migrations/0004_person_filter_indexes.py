"""The persons list's filter indexes (issue 17): 人员类别 as a (category, id) range in the
list's order, the rare flags (异地安置, 在常住地长期居住, 港澳台同胞) as partial indexes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0003_enrollment_category'),
        ('policies', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='person',
            index=models.Index(fields=['category', 'id'], name='person_category'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('resettled', True)), fields=['id'], name='person_resettled'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('long_term_resident', True)), fields=['id'], name='person_long_term_resident'),
        ),
        migrations.AddIndex(
            model_name='person',
            index=models.Index(condition=models.Q(('hk_macao_taiwan', True)), fields=['id'], name='person_hk_macao_taiwan'),
        ),
    ]
