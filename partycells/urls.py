from django.urls import path

from . import views

urlpatterns = [
    path("branches/", views.branch_list, name="party-branch-list"),
    path("branches/new/", views.branch_create_view, name="party-branch-create"),
    path("branches/<int:pk>/", views.branch_detail, name="party-branch-detail"),
    path("branches/<int:pk>/members/", views.member_create_view, name="party-member-create"),
    path("branches/<int:pk>/groups/", views.group_create_view, name="party-group-create"),
    path("branches/<int:pk>/teams/", views.team_create_view, name="party-team-create"),
    path(
        "branches/<int:pk>/volunteers/", views.volunteer_create_view, name="party-volunteer-create"
    ),
    path("branches/<int:pk>/activities/", views.activity_create_view, name="party-activity-create"),
    path(
        "branches/<int:pk>/escalations/",
        views.escalation_create_view,
        name="party-escalation-create",
    ),
    path("members/<int:pk>/leave/", views.member_leave_view, name="party-member-leave"),
    path(
        "escalations/<int:pk>/answer/", views.escalation_answer_view, name="party-escalation-answer"
    ),
    path(
        "escalations/<int:pk>/resolve/",
        views.escalation_resolve_view,
        name="party-escalation-resolve",
    ),
    path("meetings/", views.meeting_list, name="party-meeting-list"),
    path("meetings/new/", views.meeting_create_view, name="party-meeting-create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="party-meeting-detail"),
    path("meetings/<int:pk>/minutes/", views.meeting_update_view, name="party-meeting-update"),
    path("meetings/<int:pk>/decisions/", views.decision_create_view, name="party-decision-create"),
    path("meetings/<int:pk>/votes/", views.vote_create_view, name="party-vote-create"),
    path(
        "meetings/<int:pk>/objections/",
        views.settlement_create_view,
        name="party-settlement-create",
    ),
    path("decisions/", views.decision_board, name="party-decision-board"),
    path("decisions/<int:pk>/update/", views.decision_update_view, name="party-decision-update"),
    path("coverage/", views.coverage_view, name="party-coverage"),
]
