"""Notification texts are written in the site's language, whoever's request created them."""
import pytest
from django.utils import translation

from notifications.models import Reminder
from tests.factories import make_melding

pytestmark = pytest.mark.django_db


class NotificationLanguageTests:
    def test_it_stores_the_new_concern_message_in_bokmaal_when_sent_from_an_english_session(self, org):
        with translation.override("en"):
            concern = make_melding(org)
        reminder = Reminder.objects.get(key__startswith=f"concern:{concern.pk}:submitted")
        with translation.override("nb"):
            expected = translation.gettext("%(ref)s: a new concern has arrived") % {"ref": concern.reference}
        assert expected != "%(ref)s: a new concern has arrived" % {"ref": concern.reference}, "catalogue not compiled"
        assert reminder.message == expected
