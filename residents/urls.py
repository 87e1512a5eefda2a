from django.urls import path

from . import views

urlpatterns = [
    path("residents/", views.request_list, name="request-list"),
    path("residents/new/", views.request_create, name="request-create"),
    path("residents/bulk/", views.request_bulk_transition, name="request-bulk"),
    path("residents/export.csv", views.request_export, name="request-export"),
    path("residents/<int:pk>/", views.request_detail, name="request-detail"),
    path("residents/<int:pk>/transition/", views.request_transition, name="request-transition"),
    path("residents/<int:pk>/assign/", views.request_assign, name="request-assign"),
    path("residents/<int:pk>/answer/", views.request_answer, name="request-answer"),
    path("residents/<int:pk>/book/", views.errand_book, name="errand-book"),
    path("residents/bookings/<int:pk>/done/", views.errand_done, name="errand-done"),
    path("residents/surveys/", views.survey_list, name="survey-list"),
    path("residents/surveys/<int:pk>/", views.survey_detail, name="survey-detail"),
    path("residents/surveys/<int:pk>/answer/", views.survey_answer, name="survey-answer"),
    path("residents/surveys/<int:pk>/close/", views.survey_close, name="survey-close"),
    path("residents/demand-lists/", views.demand_list_list, name="demand-list-list"),
    path("residents/demand-lists/<int:pk>/", views.demand_list_detail, name="demand-list-detail"),
    path(
        "residents/demand-lists/<int:pk>/review/",
        views.demand_list_review,
        name="demand-list-review",
    ),
    path("residents/demand-lists/<int:pk>/send/", views.demand_list_send, name="demand-list-send"),
    path(
        "residents/demand-lists/<int:pk>/receive/",
        views.demand_list_receive,
        name="demand-list-receive",
    ),
    path(
        "residents/demand-lists/<int:pk>/items/",
        views.demand_list_items,
        name="demand-list-items",
    ),
    # The public page of a compound, reached by the QR code at its gate.
    path("c/<slug:token>/", views.public_compound, name="public-compound"),
    path("c/<slug:token>/thanks/", views.public_compound_thanks, name="public-compound-thanks"),
]
