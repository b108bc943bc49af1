"""The organisation and person models leave referrals for org and people (issue 13): state only,
after every app's foreign keys were re-pointed."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0005_kernel_models_moved'),
        ('notifications', '0003_kernel_models_moved'),
        ('consent', '0008_kernel_models_moved'),
        ('audit', '0006_kernel_models_moved'),
        ('org', '0001_initial'),
        ('people', '0001_initial'),
        ('referrals', '0004_person_records_from_existing_roles'),
    ]

    operations = [
        # State only: the tables were renamed by org 0001 / people 0001 and the database's foreign
        # keys follow a renamed table, so there is nothing to change in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='person',
                    name='guardians',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='service',
                ),
                migrations.RemoveField(
                    model_name='membership',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='person',
                    name='municipality',
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='municipality',
                ),
                migrations.RemoveField(
                    model_name='person',
                    name='merged_into',
                ),
                migrations.AlterField(
                    model_name='referral',
                    name='person',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='people.person', verbose_name='person'),
                ),
                migrations.RemoveField(
                    model_name='personrecord',
                    name='person',
                ),
                migrations.AlterField(
                    model_name='concern',
                    name='person',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='concerns', to='people.person', verbose_name='child'),
                ),
                migrations.AlterField(
                    model_name='breakglassaccess',
                    name='person',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='person',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='people.person', verbose_name='person'),
                ),
                migrations.RemoveField(
                    model_name='personrecord',
                    name='service',
                ),
                migrations.RemoveField(
                    model_name='service',
                    name='group',
                ),
                migrations.AlterField(
                    model_name='concern',
                    name='receiving_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='concerns_received', to='org.service', verbose_name='child welfare service'),
                ),
                migrations.AlterField(
                    model_name='breakglassaccess',
                    name='owner_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='break_glass_accesses', to='org.service', verbose_name='service holding the case'),
                ),
                migrations.AlterField(
                    model_name='referral',
                    name='sender_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='referrals_sent', to='org.service', verbose_name='from'),
                ),
                migrations.AlterField(
                    model_name='referralevent',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.service'),
                ),
                migrations.AlterField(
                    model_name='referral',
                    name='target_service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referrals_received', to='org.service', verbose_name='to'),
                ),
                migrations.AlterField(
                    model_name='concern',
                    name='reporting_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='concerns_sent', to='org.service', verbose_name='reporting service'),
                ),
                migrations.AlterField(
                    model_name='contact',
                    name='service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='org.service', verbose_name='service'),
                ),
                migrations.AlterField(
                    model_name='catalogueentry',
                    name='service',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='catalogue', to='org.service', verbose_name='service'),
                ),
                migrations.AlterField(
                    model_name='referral',
                    name='routing_service',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referrals_routed', to='org.service', verbose_name='routed by'),
                ),
                migrations.AlterField(
                    model_name='catalogueentry',
                    name='areas',
                    field=models.ManyToManyField(blank=True, related_name='catalogue_entries', to='org.municipality', verbose_name='area (municipalities served)'),
                ),
                migrations.DeleteModel(
                    name='Guardianship',
                ),
                migrations.DeleteModel(
                    name='Membership',
                ),
                migrations.DeleteModel(
                    name='Municipality',
                ),
                migrations.DeleteModel(
                    name='Person',
                ),
                migrations.DeleteModel(
                    name='PersonRecord',
                ),
                migrations.DeleteModel(
                    name='Service',
                ),
            ],
        ),
    ]
