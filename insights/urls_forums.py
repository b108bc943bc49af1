from django.urls import path

from insights import forum_views

urlpatterns = [
    path("fora/", forum_views.forum_list, name="forums"),
]
