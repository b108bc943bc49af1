# The routing statistics' covering index also covers the coordinator's counts by status and age band
# (each row's person and id): workflows.referral.selectors.coordinator_counts reads it index-only.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('referrals', '0011_calendar_feed'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='referral',
            name='referral_stats_routing_idx',
        ),
        migrations.AddIndex(
            model_name='referral',
            index=models.Index(fields=['routing_service', 'sent_at'], include=('target_service', 'status', 'sender_service', 'person', 'id'), name='referral_routing_counts_idx'),
        ),
    ]
