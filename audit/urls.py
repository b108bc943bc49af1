"""The access-log pages. Mounted in the consent application (config/urls.py), beside the privacy
function's access requests: /consent/tilgangskontroll/."""
from django.urls import path

from audit import views

access_review_path = path("tilgangskontroll/", views.access_review, name="access_review")
