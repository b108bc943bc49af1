"""org.choices: every model's get_<field>_display answers as Django's own, from a table made once."""
from functools import partialmethod

from django.apps import apps
from django.db.models import Model
from django.utils import translation


def _choice_fields():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.choices is not None:
                yield model, field


class ChoiceDisplayTests:
    def test_it_answers_every_value_of_every_field_as_django_does_in_both_languages(self):
        checked = 0
        for model, field in _choice_fields():
            display = getattr(model, f"get_{field.name}_display")
            assert not isinstance(display, partialmethod), (model, field.name)
            for value in [v for v, _label in field.flatchoices] + ["not-a-choice"]:
                obj = model()
                setattr(obj, field.attname, value)
                for language in ("nb", "en"):
                    with translation.override(language):
                        assert display(obj) == Model._get_FIELD_display(obj, field), (model, field.name, value, language)
                        checked += 1
        assert checked > 200  # the site's many statuses and kinds, not a handful

    def test_it_shows_the_label_in_the_language_of_the_request(self):
        from referrals.models import Referral

        referral = Referral(status="requested")
        with translation.override("nb"):
            assert referral.get_status_display() == "Sendt"
        with translation.override("en"):
            assert referral.get_status_display() == "Sent"
