"""The 缴费记录 list's 缴费渠道 filter index (issue 17): a channel's payments newest first."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('enrollment', '0004_person_filter_indexes'),
        ('policies', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['channel', '-paid_date', '-id', 'scheme'], name='payment_channel'),
        ),
    ]
