# The access review's bursts count every read by a user in the period (30 days by default: some
# 270,000 rows of 10 million at national scale); this partial covering index holds just those rows
# with the columns the count reads, so PostgreSQL answers it from the index alone instead of fetching
# each row from the table (audit.selectors.review_bursts; issue 14). Plain AddIndex, as elsewhere.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0007_verbose_names'),
        ('org', '0003_verbose_names'),
        ('people', '0002_verbose_names'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='accesslog',
            index=models.Index(condition=models.Q(('action', 'view'), ('user__isnull', False)), fields=['at'], include=('user', 'object_type', 'object_id'), name='accesslog_reads_idx'),
        ),
    ]
