from django.urls import path

from insights import views

urlpatterns = [
    path("", views.overview, name="index"),
]
