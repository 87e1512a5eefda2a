from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("registry/compounds/", views.compound_list, name="compound-list"),
    path("registry/compounds/<int:pk>/", views.compound_detail, name="compound-detail"),
    path("registry/import-template.xlsx", views.registry_template, name="registry-template"),
]
