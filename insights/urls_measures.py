"""The substance-policy plan's pages (namespace ``insights``). Addressed by codes, never by a person."""
from django.urls import path

from insights import measure_views as views

urlpatterns = [
    path("tiltak/", views.measure_list, name="measures"),
    path("tiltak/ny-plan/", views.policy_plan_new, name="policy_plan_new"),
    path("tiltak/plan/<str:code>/", views.policy_plan, name="policy_plan"),
    path("tiltak/plan/<str:code>/endre/", views.policy_plan_edit, name="policy_plan_edit"),
    path("tiltak/plan/<str:code>/nytt-tiltak/", views.measure_new, name="measure_new"),
    path("tiltak/plan/<str:code>/tiltak.csv", views.policy_plan_csv, name="policy_plan_csv"),
    path("tiltak/plan/<str:code>/tiltak.pdf", views.policy_plan_pdf, name="policy_plan_pdf"),
    path("tiltak/<str:code>/", views.measure, name="measure"),
    path("tiltak/<str:code>/endre/", views.measure_edit, name="measure_edit"),
    path("tiltak/<str:code>/evaluer/", views.measure_evaluate, name="measure_evaluate"),
]
