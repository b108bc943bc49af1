"""Foreign keys to the organisation and person models now point at org/people (issue 13)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0005_refuse_update_delete'),
        ('org', '0001_initial'),
        ('people', '0001_initial'),
    ]

    operations = [
        # State only: the tables were renamed by org 0001 / people 0001 and the database's foreign
        # keys follow a renamed table, so there is nothing to change in the database.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='accesslog',
                    name='person',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person'),
                ),
                migrations.AlterField(
                    model_name='accesslog',
                    name='service',
                    field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='org.service', verbose_name='acting service'),
                ),
            ],
        ),
    ]
