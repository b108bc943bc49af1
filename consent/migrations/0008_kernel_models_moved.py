"""Foreign keys to the organisation and person models now point at org/people (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('consent', '0007_access_request'),
        ('org', '0001_initial'),
        ('people', '0001_initial'),
    ]

    operations = [
        # State only: the tables were renamed by org 0001 / people 0001 and the database's foreign
        # keys follow a renamed table, so there is nothing to change in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accessrequest',
                    name='person',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='access_requests', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='accessrequest',
                    name='registered_by_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='access_requests', to='org.service', verbose_name='privacy function'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='grantees',
                    field=models.ManyToManyField(related_name='consents_received', to='org.service', verbose_name='may be shared with'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='guardians',
                    field=models.ManyToManyField(blank=True, related_name='consents_given_as_guardian', to='people.person', verbose_name='given by guardians'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='person',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents', to='people.person', verbose_name='person'),
                ),
                migrations.AlterField(
                    model_name='consent',
                    name='recorded_by_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='consents_recorded', to='org.service', verbose_name='responsible service'),
                ),
                migrations.AlterField(
                    model_name='disclosure',
                    name='from_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disclosures_made', to='org.service', verbose_name='from'),
                ),
                migrations.AlterField(
                    model_name='disclosure',
                    name='person',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='disclosures', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='disclosure',
                    name='to_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='disclosures_received', to='org.service', verbose_name='to'),
                ),
                migrations.AlterField(
                    model_name='reconsenttask',
                    name='responsible_service',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reconsent_tasks', to='org.service'),
                ),
            ],
        ),
    ]
