from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("reports/", views.report_list, name="report-list"),
    path("reports/<int:pk>/status/", views.report_status, name="report-status"),
    path("reports/<int:pk>/download/", views.report_download, name="report-download"),
    path("registry/compounds/", views.compound_list, name="compound-list"),
    path("registry/compounds/<int:pk>/", views.compound_detail, name="compound-detail"),
    path("registry/import-template.xlsx", views.registry_template, name="registry-template"),
    path("projects/", views.project_list, name="project-list"),
    path("projects/new/", views.project_create_view, name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path(
        "projects/<int:pk>/transition/",
        views.project_transition_view,
        name="project-transition",
    ),
    path("projects/<int:pk>/progress/", views.progress_create_view, name="project-progress"),
    path("projects/<int:pk>/payments/", views.disbursement_create_view, name="project-payment"),
    path("funding/", views.funding_source_list, name="funding-source-list"),
    path("funding/<int:pk>/", views.funding_source_detail, name="funding-source-detail"),
    path("projects/progress-import/", views.progress_import_view, name="progress-import"),
    path("projects/progress-template.xlsx", views.progress_template, name="progress-template"),
]
