from django.urls import path

from insights import measure_views

urlpatterns = [
    path("tiltak/", measure_views.measure_list, name="measures"),
]
