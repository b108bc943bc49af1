from django.urls import path

from insights import views

urlpatterns = [
    path("", views.overview, name="index"),
    path("innsikt.csv", views.export_csv, name="export_csv"),
    path("innsikt.pdf", views.export_pdf, name="export_pdf"),
]
