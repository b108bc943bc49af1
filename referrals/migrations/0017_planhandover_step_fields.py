import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0016_individualplan_participant_permission'),
    ]

    operations = [
        migrations.AddField(
            model_name='planhandover',
            name='next_deadline_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='next deadline'),
        ),
        migrations.AddField(
            model_name='planhandover',
            name='updated_at',
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name='updated'),
            preserve_default=False,
        ),
    ]
