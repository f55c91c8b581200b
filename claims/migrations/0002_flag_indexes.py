"""Partial indexes of the claims list's flag filters (待重新结算, 需线下审核, 线下审核期限;
issue 17): a flag no listed claim carries is an empty index, not a walk of every claim."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('claims', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(condition=models.Q(('needs_resettle', True)), fields=['-service_date', '-id'], name='claim_needs_resettle'),
        ),
        migrations.AddIndex(
            model_name='claim',
            index=models.Index(condition=models.Q(('offline_review', True)), fields=['-service_date', '-id'], name='claim_offline_review'),
        ),
    ]
