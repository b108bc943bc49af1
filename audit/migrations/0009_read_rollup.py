# The access review's roll-up of reads (audit/rollup.py; issue 14): the distinct records each user read
# per window, the count per user and window, and the watermark. Derived from the access log, rebuilt
# from it when the window length changes; no foreign-key constraints or user index (reads go by the keys).

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0008_review_reads_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ReadRollup',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('seconds', models.PositiveIntegerField(verbose_name='window length in seconds')),
                ('last_id', models.BigIntegerField(default=0, verbose_name='last access-log id rolled up')),
                ('rolled_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='rolled up at')),
            ],
            options={
                'verbose_name': 'roll-up of reads',
                'verbose_name_plural': 'roll-ups of reads',
            },
        ),
        migrations.CreateModel(
            name='ReadRecord',
            fields=[
                ('pk', models.CompositePrimaryKey('seconds', 'user', 'bucket', 'object_type', 'object_id', blank=True, editable=False, primary_key=True, serialize=False)),
                ('seconds', models.PositiveIntegerField(verbose_name='window length in seconds')),
                ('bucket', models.BigIntegerField(verbose_name='window')),
                ('object_type', models.CharField(max_length=60, verbose_name='object type')),
                ('object_id', models.PositiveBigIntegerField(verbose_name='object id')),
                ('user', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'record read in a window',
                'verbose_name_plural': 'records read in a window',
            },
        ),
        migrations.CreateModel(
            name='ReadWindow',
            fields=[
                ('pk', models.CompositePrimaryKey('seconds', 'user', 'bucket', blank=True, editable=False, primary_key=True, serialize=False)),
                ('seconds', models.PositiveIntegerField(verbose_name='window length in seconds')),
                ('bucket', models.BigIntegerField(verbose_name='window')),
                ('records', models.PositiveIntegerField(verbose_name='different records read')),
                ('user', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='user')),
            ],
            options={
                'verbose_name': 'reads in a window',
                'verbose_name_plural': 'reads in windows',
                'indexes': [models.Index(fields=['seconds', 'records', 'bucket'], include=('user',), name='readwindow_bursts_idx')],
            },
        ),
    ]
