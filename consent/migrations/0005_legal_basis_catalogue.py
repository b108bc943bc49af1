"""The catalogue of statutory bases and the approval state of a disclosure (issue 6, point 4)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0004_default_age_rules'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='disclosure',
            name='decided_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='approved or rejected at'),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='decided_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='decision_note',
            field=models.TextField(blank=True, verbose_name='decision note'),
        ),
        migrations.AddField(
            model_name='disclosure',
            name='status',
            field=models.CharField(choices=[('in_force', 'In force'), ('pending', 'Awaiting approval'), ('rejected', 'Not approved'), ('cancelled', 'Cancelled before approval')], default='in_force', max_length=12, verbose_name='status'),
        ),
        migrations.CreateModel(
            name='LegalBasis',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.SlugField(unique=True, verbose_name='code')),
                ('statute', models.CharField(help_text='E.g. “Helsepersonelloven”.', max_length=120, verbose_name='statute')),
                ('paragraph', models.CharField(help_text='E.g. “§ 45” or “§ 13 b første ledd nr. 5”.', max_length=80, verbose_name='section')),
                ('title', models.CharField(max_length=200, verbose_name='title (Norwegian)')),
                ('title_en', models.CharField(blank=True, max_length=200, verbose_name='title (English)')),
                ('description', models.TextField(blank=True, verbose_name='description (Norwegian)')),
                ('purposes', models.JSONField(blank=True, default=list, help_text='Consent purposes, e.g. ["referral"].', verbose_name='purposes it permits')),
                ('sender_kinds', models.JSONField(blank=True, default=list, help_text='Kinds of service that may share on it; empty: any kind.', verbose_name='sending service kinds')),
                ('recipient_kinds', models.JSONField(blank=True, default=list, verbose_name='receiving service kinds it permits')),
                ('requires_approval', models.BooleanField(default=False, help_text='Each disclosure takes effect only after a leader of the sending service approves it.', verbose_name='requires approval')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('valid_from', models.DateField(blank=True, null=True, verbose_name='valid from')),
                ('valid_to', models.DateField(blank=True, null=True, verbose_name='valid to')),
            ],
            options={
                'verbose_name': 'legal basis',
                'verbose_name_plural': 'legal bases',
                'ordering': ['statute', 'paragraph', 'code'],
                'constraints': [models.CheckConstraint(condition=models.Q(('valid_to__isnull', True), ('valid_from__isnull', True), ('valid_from__lte', models.F('valid_to')), _connector='OR'), name='legalbasis_period_ordered')],
            },
        ),
        migrations.AddField(
            model_name='disclosure',
            name='legal_basis',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='disclosures', to='consent.legalbasis', verbose_name='statutory basis'),
        ),
        migrations.AddIndex(
            model_name='disclosure',
            index=models.Index(fields=['from_service', 'status'], name='disclosure_approval_queue_idx'),
        ),
    ]
