"""The person models move here from ``referrals`` (issue 13), with their data: state-only
creation, table renames, content types renamed in place (see org 0001)."""
import django.db.models.deletion
import uuid
from django.db import migrations, models

from org.migrations_support import move_content_types, rename_tables

TABLES = [("referrals_person", "people_person"), ("referrals_personrecord", "people_personrecord"), ("referrals_guardianship", "people_guardianship")]
MODELS = ["person", "personrecord", "guardianship"]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('org', '0001_initial'),
        ('referrals', '0004_person_records_from_existing_roles'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Guardianship',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('parent', 'Parent with parental responsibility'), ('guardian', 'Appointed guardian (verge)')], default='parent', max_length=16, verbose_name='kind')),
                    ],
                    options={
                        'verbose_name': 'guardianship',
                        'verbose_name_plural': 'guardianships',
                    },
                ),
                migrations.CreateModel(
                    name='Person',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('given_name', models.CharField(max_length=120, verbose_name='given name')),
                        ('family_name', models.CharField(blank=True, max_length=120, verbose_name='family name')),
                        ('national_id', models.CharField(blank=True, max_length=11, null=True, unique=True, verbose_name='national identity number')),
                        ('id_kind', models.CharField(choices=[('fnr', 'National identity number'), ('dnr', 'D number'), ('none', 'No number (birth date only)')], default='none', max_length=8, verbose_name='kind of number')),
                        ('birth_date', models.DateField(blank=True, null=True, verbose_name='birth date')),
                        ('approx_age', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='approximate age')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('guardians', models.ManyToManyField(blank=True, related_name='children', through='people.Guardianship', to='people.person', verbose_name='guardians')),
                        ('merged_into', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='people.person')),
                        ('municipality', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='persons', to='org.municipality', verbose_name='municipality')),
                    ],
                    options={
                        'verbose_name': 'person',
                        'verbose_name_plural': 'persons',
                    },
                ),
                migrations.AddField(
                    model_name='guardianship',
                    name='child',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='guardianships', to='people.person'),
                ),
                migrations.AddField(
                    model_name='guardianship',
                    name='guardian',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='guardian_of', to='people.person'),
                ),
                migrations.CreateModel(
                    name='PersonRecord',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('given_name', models.CharField(max_length=120, verbose_name='given name')),
                        ('family_name', models.CharField(blank=True, max_length=120, verbose_name='family name')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='records', to='people.person', verbose_name='person')),
                        ('service', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='person_records', to='org.service', verbose_name='service')),
                    ],
                    options={
                        'verbose_name': 'person record',
                        'verbose_name_plural': 'person records',
                    },
                ),
                migrations.AddConstraint(
                    model_name='guardianship',
                    constraint=models.UniqueConstraint(fields=('child', 'guardian'), name='uniq_guardianship'),
                ),
                migrations.AddConstraint(
                    model_name='guardianship',
                    constraint=models.CheckConstraint(condition=models.Q(('child', models.F('guardian')), _negated=True), name='guardian_not_self'),
                ),
                migrations.AddConstraint(
                    model_name='personrecord',
                    constraint=models.UniqueConstraint(fields=('person', 'service'), name='uniq_person_record'),
                ),
            ],
            database_operations=[
                migrations.RunPython(*rename_tables(TABLES)),
            ],
        ),
        migrations.RunPython(*move_content_types("referrals", "people", MODELS)),
    ]
