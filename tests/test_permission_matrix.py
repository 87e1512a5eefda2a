"""The permission matrix: every URL pattern of the project, admin included, asked for by
every role, against the table below. A new URL without a row fails
`test_every_url_has_a_rule`, so no page lands without a decision about who may open it.

Columns (roles, see tests.urlwalk.ROLES): anonymous · grid worker of community A (广跃社区)
· community staff of A · sub-district staff of A's sub-district · programme office ·
finance · organisation · publicity · leader · a staff account with no role.

Outcomes: "." allowed (2xx, or 3xx to a page that answers 2xx) · "L" redirect to a login
page · "F" 403 · "N" 404 · "M" 405 (a POST-only address asked with GET).

A row gives the outcome of GET and, for addresses that take a form, of POST with an empty
form (`post=`); for an address with an id, of asking for the record of community A. The
same record of community B (another sub-district) must answer 404 to the local roles
wherever A's answers "." (and 403 or 404 where A's is refused), and nothing may be
written by a refused POST. `perm` names the rule of renovation.access a page stands on,
and `test_page_rules_agree_with_access` checks the row against it; admin rows are checked
against the model's own entry in PERMISSIONS."""

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.core.cache import cache
from django.urls import reverse

from renovation.access import ADMIN_ROLES, PERMISSIONS
from renovation.models import Role
from tests.urlwalk import (
    ALLOWED,
    FORBIDDEN,
    LOCAL_ROLES,
    NOT_FOUND,
    OUTCOMES,
    ROLES,
    call,
    url_for,
    url_patterns,
)
from tests.world import build_world

ROLE_NAMES = list(ROLES)
# The Role each column stands for (None: anonymous, or a staff account with no role).
ROLE_OF = {
    "anon": None,
    "grid": Role.GRID_WORKER,
    "community": Role.COMMUNITY_STAFF,
    "subdistrict": Role.SUB_DISTRICT_STAFF,
    "office": Role.PROGRAMME_OFFICE,
    "finance": Role.FINANCE,
    "organisation": Role.ORGANISATION,
    "publicity": Role.PUBLICITY,
    "leader": Role.LEADER,
    "norole": None,
}


@dataclass(frozen=True)
class R:
    """One row: `get` and `post` hold one outcome per role, in the order of ROLES."""

    get: str
    post: str | None = None
    obj: str | None = None  # the world's record the URL's id names (admin: its model)
    perm: str | None = None  # "app.model:action" the page's GET stands on
    post_perm: str | None = None  # the same for its POST, when it differs
    area: bool = True  # False: a public page, the same for B's record as for A's

    def outcome(self, method: str, role: str) -> str:
        row = (self.get if method == "get" else self.post).split()
        assert len(row) == len(ROLES), f"a row has {len(row)} outcomes, not {len(ROLES)}"
        return row[ROLE_NAMES.index(role)]


POST_ONLY = "L M M M M M M M M M"

# Addresses left out of the walk, each with its reason.
SKIPPED = {
    "set_language": "Django's language switch (django.conf.urls.i18n): it stores the choice "
    "in a cookie and sends every visitor back where they came from, showing no data; "
    "tests/browser/test_language.py drives it.",
}

# fmt: off
# Each outcome string, left to right: anonymous, grid worker, community staff, sub-district
# staff, programme office, finance, organisation, publicity, leader, no role.
RULES: dict[str, R] = {
    # --- Sign in and out -------------------------------------------------------------------
    "login": R(". . . . . . . . . .", post=". . . . . . . . . ."),
    "logout": R("M M M M M M M M M M"),  # POST only: signing out is tested in test_login
    # --- Registry, projects, money, the report (renovation) -------------------------------
    "home": R("L . . . . . . . . F", perm="renovation.compound:view"),
    "dashboard": R("L F F F . . . . . F", perm="renovation.monthlyreport:view"),
    "report-list": R(
        "L F F F . . . . . F", post="L F F F . F F F F F",
        perm="renovation.monthlyreport:view", post_perm="renovation.monthlyreport:add",
    ),
    "report-status": R(
        "L F F F . . . . . F", obj="renovation.monthlyreport",
        perm="renovation.monthlyreport:view",
    ),
    "report-download": R(
        "L F F F . . . . . F", obj="renovation.monthlyreport",
        perm="renovation.monthlyreport:view",
    ),
    "compound-list": R("L . . . . . . . . F", perm="renovation.compound:view"),
    "compound-detail": R(
        "L . . . . . . . . F", obj="renovation.compound", perm="renovation.compound:view"
    ),
    "registry-template": R("L F F . . F F F F F", perm="renovation.compound:add"),
    "project-list": R("L . . . . . . . . F", perm="renovation.renovationproject:view"),
    "project-create": R(
        "L F F F . F F F F F", post="L F F F . F F F F F",
        perm="renovation.renovationproject:add",
    ),
    "project-detail": R(
        "L . . . . . . . . F", obj="renovation.renovationproject",
        perm="renovation.renovationproject:view",
    ),
    "project-transition": R(
        POST_ONLY, post="L F F F . F F F F F", obj="renovation.renovationproject",
        post_perm="renovation.renovationproject:change",
    ),
    "project-progress": R(
        POST_ONLY, post="L F F . . F F F F F", obj="renovation.renovationproject",
        post_perm="renovation.progressupdate:add",
    ),
    "project-payment": R(
        POST_ONLY, post="L F F F . . F F F F", obj="renovation.renovationproject",
        post_perm="renovation.disbursement:add",
    ),
    "funding-source-list": R(
        "L F F F . . . . . F", post="L F F F . . F F F F",
        perm="renovation.fundingsource:view", post_perm="renovation.fundingsource:add",
    ),
    "funding-source-detail": R(
        "L F F F . . . . . F", post="L F F F . . F F F F", obj="renovation.fundingsource",
        perm="renovation.fundingsource:view", post_perm="renovation.fundingallocation:add",
    ),
    "progress-import": R(
        "L F F . . F F F F F", post="L F F . . F F F F F",
        perm="renovation.progressupdate:add",
    ),
    "progress-template": R("L F F . . F F F F F", perm="renovation.progressupdate:add"),
    # --- Residents: requests, errands, surveys, demand lists, the public page -------------
    "request-list": R("L . . . . . . . . F", perm="residents.residentrequest:view"),
    "request-create": R(
        "L . . F F F F F F F", post="L . . F F F F F F F",
        perm="residents.residentrequest:add",
    ),
    "request-bulk": R(
        POST_ONLY, post="L F . F F F F F F F", post_perm="residents.residentrequest:change"
    ),
    "request-export": R("L . . . . . . . . F", perm="residents.residentrequest:view"),
    "request-detail": R(
        "L . . . . . . . . F", obj="residents.residentrequest",
        perm="residents.residentrequest:view",
    ),
    "request-transition": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.residentrequest",
        post_perm="residents.residentrequest:change",
    ),
    "request-assign": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.residentrequest",
        post_perm="residents.residentrequest:change",
    ),
    "request-answer": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.residentrequest",
        post_perm="residents.residentrequest:change",
    ),
    "errand-book": R(
        POST_ONLY, post="L . . F F F F F F F", obj="errand",
        post_perm="residents.errandbooking:add",
    ),
    "errand-done": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.errandbooking",
        post_perm="residents.errandbooking:change",
    ),
    "survey-list": R(
        "L . . . . . . . . F", post="L F . . F F F F F F",
        perm="residents.survey:view", post_perm="residents.survey:add",
    ),
    "survey-detail": R(
        "L . . . . . . . . F", obj="residents.survey", perm="residents.survey:view"
    ),
    "survey-answer": R(
        POST_ONLY, post="L . . . F F F F F F", obj="residents.survey",
        post_perm="residents.surveyanswer:add",
    ),
    "survey-close": R(
        POST_ONLY, post="L F . . F F F F F F", obj="residents.survey",
        post_perm="residents.survey:change",
    ),
    "demand-list-list": R(
        "L . . . . . . . . F", post="L F . F F F F F F F",
        perm="residents.demandlist:view", post_perm="residents.demandlist:add",
    ),
    "demand-list-detail": R(
        "L . . . . . . . . F", obj="residents.demandlist", perm="residents.demandlist:view"
    ),
    "demand-list-review": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.demandlist",
        post_perm="residents.demandlist:change",
    ),
    "demand-list-send": R(
        POST_ONLY, post="L F . F F F F F F F", obj="residents.demandlist",
        post_perm="residents.demandlist:change",
    ),
    "demand-list-receive": R(
        POST_ONLY, post="L F F F . F F F F F", obj="residents.demandlist",
        post_perm="residents.demandlist:receive",
    ),
    "demand-list-items": R(
        POST_ONLY, post="L F F F . F F F F F", obj="residents.demandlist",
        post_perm="residents.demandlist:receive",
    ),
    # The public page of a compound: anyone with the QR code's token, no login.
    "public-compound": R(
        ". . . . . . . . . .", post=". . . . . . . . . .", obj="residents.compoundpage",
        area=False,
    ),
    "public-compound-thanks": R(". . . . . . . . . .", obj="residents.compoundpage", area=False),
    # --- Party cells: branches, meetings, decisions, coverage -----------------------------
    "party-branch-list": R("L . . . . . . . . F", perm="partycells.temporarybranch:view"),
    "party-branch-create": R(
        "L F F F . F . F F F", post="L F F F . F . F F F",
        perm="partycells.temporarybranch:add",
    ),
    "party-branch-detail": R(
        "L . . . . . . . . F", obj="partycells.temporarybranch",
        perm="partycells.temporarybranch:view",
    ),
    "party-member-create": R(
        POST_ONLY, post="L F F F . F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.branchmember:add",
    ),
    "party-group-create": R(
        POST_ONLY, post="L F F F . F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.buildinggroup:add",
    ),
    "party-team-create": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.volunteerteam:add",
    ),
    "party-volunteer-create": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.volunteermember:add",
    ),
    "party-activity-create": R(
        POST_ONLY, post="L F . . F F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.activity:add",
    ),
    "party-escalation-create": R(
        POST_ONLY, post="L F . . F F . F F F", obj="partycells.temporarybranch",
        post_perm="partycells.escalation:add",
    ),
    "party-member-leave": R(
        POST_ONLY, post="L F F F . F . F F F", obj="partycells.branchmember",
        post_perm="partycells.branchmember:change",
    ),
    "party-escalation-answer": R(
        POST_ONLY, post="L F . . F F F F F F", obj="partycells.escalation",
        post_perm="partycells.escalation:answer",
    ),
    "party-escalation-resolve": R(
        POST_ONLY, post="L F . . F F . F F F", obj="partycells.escalation",
        post_perm="partycells.escalation:change",
    ),
    "party-meeting-list": R("L F . . . . . . . F", perm="partycells.meeting:view"),
    "party-meeting-create": R(
        "L F . . . F . F F F", post="L F . . . F . F F F", perm="partycells.meeting:add"
    ),
    "party-meeting-detail": R(
        "L F . . . . . . . F", obj="partycells.meeting", perm="partycells.meeting:view"
    ),
    "party-meeting-update": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.meeting",
        post_perm="partycells.meeting:change",
    ),
    "party-decision-create": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.meeting",
        post_perm="partycells.decision:add",
    ),
    "party-vote-create": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.meeting",
        post_perm="partycells.meetingvote:add",
    ),
    "party-settlement-create": R(
        POST_ONLY, post="L F . . F F F F F F", obj="council",
        post_perm="partycells.objectionsettlement:add",
    ),
    "party-decision-board": R("L F . . . . . . . F", perm="partycells.decision:view"),
    "party-decision-update": R(
        POST_ONLY, post="L F . . . F . F F F", obj="partycells.decision",
        post_perm="partycells.decision:change",
    ),
    "party-coverage": R("L F . . . . . . . F", perm="partycells.temporarybranch:coverage"),
    # --- The admin ---------------------------------------------------------------------------
    # Grid workers work on the phone pages only: the admin sends them (and anyone not
    # signed in) to its login. A staff account with no role sees an empty admin.
    "admin:index": R("L L . . . . . . . ."),
    "admin:login": R(". . . . . . . . . .", post=". . . . . . . . . ."),
    "admin:logout": R("L L M M M M M M M M"),
    "admin:password_change": R("L L . . . . . . . .", post="L L . . . . . . . ."),
    "admin:password_change_done": R("L L . . . . . . . ."),
    "admin:autocomplete": R("L L F F F F F F F F"),
    "admin:jsi18n": R("L L . . . . . . . ."),
    # "View on site": no record has a page address of its own (get_absolute_url).
    "admin:view_on_site": R("L L N N N N N N N N", obj="renovation.compound"),
    # auth.group
    "admin:auth_group_changelist": R("L L F F F F F F F F"),
    "admin:auth_group_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:auth_group_history": R("L L F F F F F F F F"),
    "admin:auth_group_delete": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:auth_group_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin/auth/group/<path:object_id>/": R("L L F F F F F F F F"),
    # axes.accessattempt
    "admin:axes_accessattempt_changelist": R("L L F F F F F F F F"),
    "admin:axes_accessattempt_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accessattempt_history": R("L L F F F F F F F F"),
    "admin:axes_accessattempt_delete": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accessattempt_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin/axes/accessattempt/<path:object_id>/": R("L L F F F F F F F F"),
    # axes.accesslog
    "admin:axes_accesslog_changelist": R("L L F F F F F F F F"),
    "admin:axes_accesslog_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accesslog_history": R("L L F F F F F F F F"),
    "admin:axes_accesslog_delete": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accesslog_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin/axes/accesslog/<path:object_id>/": R("L L F F F F F F F F"),
    # axes.accessfailurelog
    "admin:axes_accessfailurelog_changelist": R("L L F F F F F F F F"),
    "admin:axes_accessfailurelog_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accessfailurelog_history": R("L L F F F F F F F F"),
    "admin:axes_accessfailurelog_delete": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:axes_accessfailurelog_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin/axes/accessfailurelog/<path:object_id>/": R("L L F F F F F F F F"),
    # renovation.district
    "admin:renovation_district_changelist": R("L L . . . . . . . F"),
    "admin:renovation_district_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_district_history": R("L L . . . . . . . N"),
    "admin:renovation_district_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_district_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/renovation/district/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.subdistrict
    "admin:renovation_subdistrict_changelist": R("L L . . . . . . . F"),
    "admin:renovation_subdistrict_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_subdistrict_history": R("L L . . . . . . . N"),
    "admin:renovation_subdistrict_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_subdistrict_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/renovation/subdistrict/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.community
    "admin:renovation_community_changelist": R("L L . . . . . . . F"),
    "admin:renovation_community_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_community_history": R("L L . . . . . . . N"),
    "admin:renovation_community_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_community_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/renovation/community/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.compound
    "admin:renovation_compound_import": R("L L F . . F F F F F", post="L L F . . F F F F F"),
    "admin:renovation_compound_changelist": R("L L . . . . . . . F"),
    "admin:renovation_compound_add": R("L L F . . F F F F F", post="L L F . . F F F F F"),
    "admin:renovation_compound_history": R("L L . . . . . . . N"),
    "admin:renovation_compound_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_compound_change": R("L L . . . . . . . N", post="L L F . . F F F F N"),
    "admin/renovation/compound/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.building
    "admin:renovation_building_changelist": R("L L . . . . . . . F"),
    "admin:renovation_building_add": R("L L F . . F F F F F", post="L L F . . F F F F F"),
    "admin:renovation_building_history": R("L L . . . . . . . N"),
    "admin:renovation_building_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_building_change": R("L L . . . . . . . N", post="L L F . . F F F F N"),
    "admin/renovation/building/<path:object_id>/": R("L L . . . . . . . N"),
    # auth.user
    "admin:auth_user_password_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:auth_user_changelist": R("L L F F F F F F F F"),
    "admin:auth_user_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:auth_user_history": R("L L F F F F F F F F"),
    "admin:auth_user_delete": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:auth_user_change": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin/auth/user/<path:object_id>/": R("L L F F F F F F F F"),
    # renovation.renovationproject
    "admin:renovation_renovationproject_transition": R(
        "L L F F . F F F F F", post="L L F F . F F F F F"
    ),
    "admin:renovation_renovationproject_simple_history": R("L L . . . . . . . N"),
    "admin:renovation_renovationproject_changelist": R("L L . . . . . . . F"),
    # Projects enter the pipeline on the project page (the willingness gate): the admin's
    # add sends there.
    "admin:renovation_renovationproject_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_renovationproject_history": R("L L . . . . . . . N"),
    "admin:renovation_renovationproject_delete": R(
        "L L F F . F F F F N", post="L L F F . F F F F N"
    ),
    "admin:renovation_renovationproject_change": R(
        "L L . . . . . . . N", post="L L F F . F F F F N"
    ),
    "admin/renovation/renovationproject/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.itemcategory
    "admin:renovation_itemcategory_changelist": R("L L . . . . . . . F"),
    "admin:renovation_itemcategory_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_itemcategory_history": R("L L . . . . . . . N"),
    "admin:renovation_itemcategory_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:renovation_itemcategory_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/renovation/itemcategory/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.projectitem
    "admin:renovation_projectitem_simple_history": R("L L . . . . . . . N"),
    "admin:renovation_projectitem_changelist": R("L L . . . . . . . F"),
    "admin:renovation_projectitem_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:renovation_projectitem_history": R("L L . . . . . . . N"),
    "admin:renovation_projectitem_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_projectitem_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/renovation/projectitem/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.progressupdate
    "admin:renovation_progressupdate_simple_history": R("L L . . . . . . . N"),
    "admin:renovation_progressupdate_changelist": R("L L . . . . . . . F"),
    "admin:renovation_progressupdate_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:renovation_progressupdate_history": R("L L . . . . . . . N"),
    "admin:renovation_progressupdate_delete": R("L L F F . F F F F N", post="L L F F . F F F F N"),
    "admin:renovation_progressupdate_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/renovation/progressupdate/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.fundingsource
    "admin:renovation_fundingsource_simple_history": R("L L N N . . . . . N"),
    "admin:renovation_fundingsource_changelist": R("L L F F . . . . . F"),
    "admin:renovation_fundingsource_add": R("L L F F . . F F F F", post="L L F F . . F F F F"),
    "admin:renovation_fundingsource_history": R("L L N N . . . . . N"),
    "admin:renovation_fundingsource_delete": R("L L N N F . F F F N", post="L L N N F . F F F N"),
    "admin:renovation_fundingsource_change": R("L L N N . . . . . N", post="L L N N . . F F F N"),
    "admin:renovation_fundingsource_deleted": R("L L F F . . F F F F"),  # its deleted rows
    "admin/renovation/fundingsource/<path:object_id>/": R("L L N N . . . . . N"),
    # renovation.fundingallocation
    "admin:renovation_fundingallocation_simple_history": R("L L . . . . . . . N"),
    "admin:renovation_fundingallocation_changelist": R("L L . . . . . . . F"),
    "admin:renovation_fundingallocation_add": R("L L F F . . F F F F", post="L L F F . . F F F F"),
    "admin:renovation_fundingallocation_history": R("L L . . . . . . . N"),
    "admin:renovation_fundingallocation_delete": R(
        "L L F F F . F F F N", post="L L F F F . F F F N"
    ),
    "admin:renovation_fundingallocation_change": R(
        "L L . . . . . . . N", post="L L F F F F F F F N"
    ),
    "admin:renovation_fundingallocation_deleted": R("L L F F . . F F F F"),  # its deleted rows
    "admin/renovation/fundingallocation/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.disbursement
    "admin:renovation_disbursement_simple_history": R("L L . . . . . . . N"),
    "admin:renovation_disbursement_changelist": R("L L . . . . . . . F"),
    "admin:renovation_disbursement_add": R("L L F F . . F F F F", post="L L F F . . F F F F"),
    "admin:renovation_disbursement_history": R("L L . . . . . . . N"),
    "admin:renovation_disbursement_delete": R("L L F F F . F F F N", post="L L F F F . F F F N"),
    "admin:renovation_disbursement_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin:renovation_disbursement_deleted": R("L L F F . . F F F F"),  # its deleted rows
    "admin/renovation/disbursement/<path:object_id>/": R("L L . . . . . . . N"),
    # renovation.monthlyreport
    "admin:renovation_monthlyreport_changelist": R("L L F F . . . . . F"),
    "admin:renovation_monthlyreport_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:renovation_monthlyreport_history": R("L L N N . . . . . N"),
    "admin:renovation_monthlyreport_delete": R("L L N N F F F F F N", post="L L N N F F F F F N"),
    "admin:renovation_monthlyreport_change": R("L L N N . . . . . N", post="L L N N . F F F F N"),
    "admin/renovation/monthlyreport/<path:object_id>/": R("L L N N . . . . . N"),
    # residents.residentrequest
    "admin:residents_residentrequest_simple_history": R("L L . . . . . . . N"),
    "admin:residents_residentrequest_changelist": R("L L . . . . . . . F"),
    "admin:residents_residentrequest_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:residents_residentrequest_history": R("L L . . . . . . . N"),
    "admin:residents_residentrequest_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_residentrequest_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/residents/residentrequest/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.requestlog
    "admin:residents_requestlog_changelist": R("L L . . . . . . . F"),
    "admin:residents_requestlog_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:residents_requestlog_history": R("L L . . . . . . . N"),
    "admin:residents_requestlog_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_requestlog_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/residents/requestlog/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.survey
    "admin:residents_survey_simple_history": R("L L . . . . . . . N"),
    "admin:residents_survey_changelist": R("L L . . . . . . . F"),
    "admin:residents_survey_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:residents_survey_history": R("L L . . . . . . . N"),
    "admin:residents_survey_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_survey_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/residents/survey/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.demandlist
    "admin:residents_demandlist_changelist": R("L L . . . . . . . F"),
    "admin:residents_demandlist_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:residents_demandlist_history": R("L L . . . . . . . N"),
    "admin:residents_demandlist_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_demandlist_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/residents/demandlist/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.servicehours
    "admin:residents_servicehours_changelist": R("L L . . . . . . . F"),
    "admin:residents_servicehours_add": R("L L . F F F F F F F", post="L L . F F F F F F F"),
    "admin:residents_servicehours_history": R("L L . . . . . . . N"),
    "admin:residents_servicehours_delete": R("L L . F F F F F F N", post="L L . F F F F F F N"),
    "admin:residents_servicehours_change": R("L L . . . . . . . N", post="L L . F F F F F F N"),
    "admin/residents/servicehours/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.serviceslot
    "admin:residents_serviceslot_changelist": R("L L . . . . . . . F"),
    "admin:residents_serviceslot_add": R("L L . F F F F F F F", post="L L . F F F F F F F"),
    "admin:residents_serviceslot_history": R("L L . . . . . . . N"),
    "admin:residents_serviceslot_delete": R("L L . F F F F F F N", post="L L . F F F F F F N"),
    "admin:residents_serviceslot_change": R("L L . . . . . . . N", post="L L . F F F F F F N"),
    "admin/residents/serviceslot/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.errandbooking
    "admin:residents_errandbooking_changelist": R("L L . . . . . . . F"),
    "admin:residents_errandbooking_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:residents_errandbooking_history": R("L L . . . . . . . N"),
    "admin:residents_errandbooking_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_errandbooking_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/residents/errandbooking/<path:object_id>/": R("L L . . . . . . . N"),
    # residents.compoundpage
    "admin:residents_compoundpage_qr": R("L L . . . . . . . F"),
    "admin:residents_compoundpage_changelist": R("L L . . . . . . . F"),
    "admin:residents_compoundpage_add": R("L L . . . F F . F F", post="L L . . . F F . F F"),
    "admin:residents_compoundpage_history": R("L L . . . . . . . N"),
    "admin:residents_compoundpage_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:residents_compoundpage_change": R("L L . . . . . . . N", post="L L . . . F F . F N"),
    "admin/residents/compoundpage/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.department
    "admin:partycells_department_changelist": R("L L . . . . . . . F"),
    "admin:partycells_department_add": R("L L F F . F F F F F", post="L L F F . F F F F F"),
    "admin:partycells_department_history": R("L L . . . . . . . N"),
    "admin:partycells_department_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_department_change": R("L L . . . . . . . N", post="L L F F . F F F F N"),
    "admin/partycells/department/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.temporarybranch
    "admin:partycells_temporarybranch_changelist": R("L L . . . . . . . F"),
    "admin:partycells_temporarybranch_add": R("L L F F . F . F F F", post="L L F F . F . F F F"),
    "admin:partycells_temporarybranch_history": R("L L . . . . . . . N"),
    "admin:partycells_temporarybranch_simple_history": R("L L . . . . . . . N"),
    "admin:partycells_temporarybranch_delete": R("L L F F F F . F F N", post="L L F F F F . F F N"),
    "admin:partycells_temporarybranch_change": R("L L . . . . . . . N", post="L L F F . F . F F N"),
    "admin/partycells/temporarybranch/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.branchmember
    "admin:partycells_branchmember_changelist": R("L L . . . . . . . F"),
    "admin:partycells_branchmember_add": R("L L F F . F . F F F", post="L L F F . F . F F F"),
    "admin:partycells_branchmember_history": R("L L . . . . . . . N"),
    "admin:partycells_branchmember_simple_history": R("L L . . . . . . . N"),
    "admin:partycells_branchmember_delete": R("L L F F F F . F F N", post="L L F F F F . F F N"),
    "admin:partycells_branchmember_change": R("L L . . . . . . . N", post="L L F F . F . F F N"),
    "admin/partycells/branchmember/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.buildinggroup
    "admin:partycells_buildinggroup_changelist": R("L L . . . . . . . F"),
    "admin:partycells_buildinggroup_add": R("L L F F . F . F F F", post="L L F F . F . F F F"),
    "admin:partycells_buildinggroup_history": R("L L . . . . . . . N"),
    "admin:partycells_buildinggroup_delete": R("L L F F F F . F F N", post="L L F F F F . F F N"),
    "admin:partycells_buildinggroup_change": R("L L . . . . . . . N", post="L L F F . F . F F N"),
    "admin/partycells/buildinggroup/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.volunteerteam
    "admin:partycells_volunteerteam_changelist": R("L L . . . . . . . F"),
    "admin:partycells_volunteerteam_add": R("L L . . . F . F F F", post="L L . . . F . F F F"),
    "admin:partycells_volunteerteam_history": R("L L . . . . . . . N"),
    "admin:partycells_volunteerteam_delete": R("L L . . . F . F F N", post="L L . . . F . F F N"),
    "admin:partycells_volunteerteam_change": R("L L . . . . . . . N", post="L L . . . F . F F N"),
    "admin/partycells/volunteerteam/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.volunteermember
    "admin:partycells_volunteermember_changelist": R("L L . . . . . . . F"),
    "admin:partycells_volunteermember_add": R("L L . . . F . F F F", post="L L . . . F . F F F"),
    "admin:partycells_volunteermember_history": R("L L . . . . . . . N"),
    "admin:partycells_volunteermember_delete": R("L L . . . F . F F N", post="L L . . . F . F F N"),
    "admin:partycells_volunteermember_change": R("L L . . . . . . . N", post="L L . . . F . F F N"),
    "admin/partycells/volunteermember/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.activity
    "admin:partycells_activity_changelist": R("L L . . . . . . . F"),
    "admin:partycells_activity_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_activity_history": R("L L . . . . . . . N"),
    "admin:partycells_activity_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_activity_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/activity/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.activityrequest
    "admin:partycells_activityrequest_changelist": R("L L . . . . . . . F"),
    "admin:partycells_activityrequest_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_activityrequest_history": R("L L . . . . . . . N"),
    "admin:partycells_activityrequest_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_activityrequest_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/activityrequest/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.meeting
    "admin:partycells_meeting_changelist": R("L L . . . . . . . F"),
    "admin:partycells_meeting_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_meeting_history": R("L L . . . . . . . N"),
    "admin:partycells_meeting_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_meeting_change": R("L L . . . . . . . N", post="L L . . . F . F F N"),
    "admin/partycells/meeting/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.decision
    "admin:partycells_decision_changelist": R("L L . . . . . . . F"),
    "admin:partycells_decision_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_decision_history": R("L L . . . . . . . N"),
    "admin:partycells_decision_simple_history": R("L L . . . . . . . N"),
    "admin:partycells_decision_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_decision_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/decision/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.decisionreport
    "admin:partycells_decisionreport_changelist": R("L L . . . . . . . F"),
    "admin:partycells_decisionreport_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_decisionreport_history": R("L L . . . . . . . N"),
    "admin:partycells_decisionreport_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_decisionreport_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/decisionreport/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.meetingvote
    "admin:partycells_meetingvote_changelist": R("L L . . . . . . . F"),
    "admin:partycells_meetingvote_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_meetingvote_history": R("L L . . . . . . . N"),
    "admin:partycells_meetingvote_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_meetingvote_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/meetingvote/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.escalation
    "admin:partycells_escalation_changelist": R("L L . . . . . . . F"),
    "admin:partycells_escalation_add": R("L L F F F F F F F F", post="L L F F F F F F F F"),
    "admin:partycells_escalation_history": R("L L . . . . . . . N"),
    "admin:partycells_escalation_delete": R("L L F F F F F F F N", post="L L F F F F F F F N"),
    "admin:partycells_escalation_change": R("L L . . . . . . . N", post="L L F F F F F F F N"),
    "admin/partycells/escalation/<path:object_id>/": R("L L . . . . . . . N"),
    # partycells.objectionsettlement
    "admin:partycells_objectionsettlement_changelist": R("L L . . . . . . . F"),
    "admin:partycells_objectionsettlement_add": R(
        "L L F F F F F F F F", post="L L F F F F F F F F"
    ),
    "admin:partycells_objectionsettlement_history": R("L L . . . . . . . N"),
    "admin:partycells_objectionsettlement_delete": R(
        "L L F F F F F F F N", post="L L F F F F F F F N"
    ),
    "admin:partycells_objectionsettlement_change": R(
        "L L . . . . . . . N", post="L L F F F F F F F N"
    ),
    "admin/partycells/objectionsettlement/<path:object_id>/": R("L L . . . . . . . N"),
    # the admin site
    "admin:app_list": R("L L . . . . . . . N"),
    "admin/(?P<url>.*)$": R("L L N N N N N N N N"),
}
# fmt: on


@pytest.fixture
def world(registry, users, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the public page's per-address limit counts in the cache
    return build_world(registry, users, tmp_path)


def _record(world, pattern, rule: R, side: str):
    label = rule.obj or pattern.model_label
    assert label, f"{pattern.key} takes an id: give its row the record it names (obj=)"
    return world.get(label, side)


def _expected_for_b(outcome: str) -> set[str]:
    """What a local role gets for community B's record, given what it gets for A's."""
    if outcome == ALLOWED:
        return {NOT_FOUND}
    if outcome == FORBIDDEN:
        return {FORBIDDEN, NOT_FOUND}
    return {outcome}


def _describe(outcomes) -> str:
    return " or ".join(OUTCOMES.get(o, o) for o in sorted(outcomes))


def test_every_url_has_a_rule():
    keys = {p.key for p in url_patterns()}
    missing = sorted(keys - RULES.keys() - SKIPPED.keys())
    assert not missing, "new URL without a permission rule: " + ", ".join(missing)
    stale = sorted((RULES.keys() | SKIPPED.keys()) - keys)
    assert not stale, "permission rule for a URL that no longer exists: " + ", ".join(stale)


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_permission_matrix(role, client, users, world):
    """Every URL as one role: GET (and POST where the row says), for A's record and, for
    the local roles, B's; a refused POST writes nothing."""
    if ROLES[role]:
        client.force_login(users[ROLES[role]])
    failures = []

    def check(method, url, expected: set[str], key: str, record: str):
        answer = call(client, method, url)
        where = f"{method.upper()} {url} ({key}, {record})"
        if answer.outcome not in expected:
            failures.append(
                f"{where}: expected {_describe(expected)}, got {answer.outcome} "
                f"{answer.detail}".rstrip()
            )
        if answer.written and answer.outcome != ALLOWED:
            failures.append(f"{where}: refused, yet wrote to {', '.join(answer.written)}")
        if answer.written and method == "get":
            failures.append(f"{where}: a GET wrote to {', '.join(answer.written)}")

    for pattern in url_patterns():
        rule = RULES.get(pattern.key)
        if rule is None:
            continue  # reported by test_every_url_has_a_rule
        a = _record(world, pattern, rule, "a") if pattern.has_id else None
        b = _record(world, pattern, rule, "b") if pattern.has_id else None
        methods = ["get"] + (["post"] if rule.post else [])
        for method in methods:
            outcome = rule.outcome(method, role)
            check(method, url_for(pattern, a), {outcome}, pattern.key, "A")
            if b is not None and role in LOCAL_ROLES:
                expected = _expected_for_b(outcome) if rule.area else {outcome}
                check(method, url_for(pattern, b), expected, pattern.key, "B")
    assert not failures, f"{len(failures)} answers differ from the table:\n" + "\n".join(failures)


def _roles_allowed(perm: str) -> set[str]:
    """The columns renovation.access lets through for "app.model:action"."""
    label, action = perm.split(":")
    allowed = set(PERMISSIONS.get(label, {}).get(action, ()))
    return {name for name, role in ROLE_OF.items() if role is not None and role in allowed}


def _allowed_in(row: str) -> set[str]:
    return {name for name, outcome in zip(ROLE_NAMES, row.split(), strict=True) if outcome == "."}


PUBLIC = {"login", "admin:login", "public-compound", "public-compound-thanks"}


def test_page_rules_agree_with_access():
    """For each page, the roles the table lets through are exactly those the rule of
    renovation.access it names allows: the table cannot drift from PERMISSIONS."""
    problems = []
    for key, rule in RULES.items():
        if key.startswith("admin") or key in PUBLIC or key == "logout":
            continue
        for row, perm in ((rule.get, rule.perm), (rule.post, rule.post_perm or rule.perm)):
            if row is None or row == POST_ONLY:
                continue
            if perm is None:
                problems.append(f"{key}: name the access rule it stands on (perm=)")
                continue
            if _allowed_in(row) != _roles_allowed(perm):
                problems.append(
                    f"{key}: the table lets {sorted(_allowed_in(row))} through, "
                    f"{perm} allows {sorted(_roles_allowed(perm))}"
                )
    assert not problems, "\n".join(problems)


# What each kind of admin URL needs from PERMISSIONS (view: view or change).
ADMIN_KIND_ACTION = {
    "changelist": "view",
    "history": "view",
    "simple_history": "view",
    "redirect": "view",
    "change": "view",
    "add": "add",
    "delete": "delete",
}


def test_admin_rules_agree_with_access():
    """Admin rows never let a role further than PERMISSIONS, and every admin role that may
    view a model finds it in the admin. Models missing from PERMISSIONS (users, groups,
    login attempts) are the superuser's alone."""
    staff = {name for name, role in ROLE_OF.items() if role in ADMIN_ROLES}
    problems = []
    for pattern in url_patterns():
        rule = RULES.get(pattern.key)
        if rule is None or pattern.model_label is None:
            continue
        action = ADMIN_KIND_ACTION.get(pattern.kind)
        entry = PERMISSIONS.get(pattern.model_label, {})
        if action is None:
            continue  # custom admin views: their rows are read on their own
        may = _roles_allowed(f"{pattern.model_label}:{action}")
        if action == "view":
            may |= _roles_allowed(f"{pattern.model_label}:change")
        allowed = _allowed_in(rule.get)
        if not allowed <= may:
            problems.append(f"{pattern.key}: lets {sorted(allowed - may)} through")
        if pattern.kind == "changelist" and entry and allowed != may & staff:
            problems.append(f"{pattern.key}: {sorted(may & staff - allowed)} cannot see it")
        if rule.post and pattern.kind == "change":
            posted = _allowed_in(rule.post)
            if not posted <= _roles_allowed(f"{pattern.model_label}:change"):
                problems.append(f"{pattern.key}: lets {sorted(posted)} save changes")
    assert not problems, "\n".join(problems)


def test_every_admin_model_is_in_the_table():
    """Each registered model's admin pages have rows (a reminder with the model's name)."""
    keys = RULES.keys()
    for model in admin.site._registry:
        changelist = f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        assert changelist in keys, f"new admin without permission rules: {model._meta.label}"


def test_a_refused_post_is_caught_writing():
    """The matrix's write check can fail: a write by a refused request is reported."""
    from tests.urlwalk import writes

    sql = [
        {"sql": 'UPDATE "django_session" SET "session_data" = 1'},
        {"sql": 'UPDATE "renovation_renovationproject" SET "name" = 1'},
    ]
    assert writes(sql) == ["renovation_renovationproject"]


def test_a_version_in_the_history_is_read_only_and_scoped(client, users, world):
    """simple_history's version page showed another community's record, and saved a POSTed
    version for anyone who may only view (a leader renamed a project through it)."""
    project = world.a.objects["renovation.renovationproject"]
    version = project.history.latest()
    url = reverse(
        "admin:renovation_renovationproject_simple_history", args=[project.pk, version.history_id]
    )
    client.force_login(users["leader"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"name": "改名了", "budget": "1"})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.name != "改名了"
    other = world.b.objects["renovation.renovationproject"]
    client.force_login(users["community_staff"])
    other_url = reverse(
        "admin:renovation_renovationproject_simple_history",
        args=[other.pk, other.history.latest().history_id],
    )
    assert client.get(other_url).status_code == 404


@pytest.mark.parametrize("role", ["community_staff", "sub_district_staff"])
def test_admin_autocomplete_never_offers_another_areas_records(client, users, world, role):
    """Every autocomplete field of the admin, asked by a local role: the choices come from
    the user's area only (B's records never appear)."""
    client.force_login(users[role])
    b_pks = {label: str(obj.pk) for label, obj in world.b.objects.items() if "." in label}
    checked = 0
    for model, model_admin in admin.site._registry.items():
        for field_name in model_admin.autocomplete_fields:
            field = model._meta.get_field(field_name)
            remote = field.related_model._meta.label_lower
            response = client.get(
                reverse("admin:autocomplete"),
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            assert response.status_code in (200, 403), (model, field_name)
            if response.status_code == 200:
                checked += 1
                ids = {row["id"] for row in response.json()["results"]}
                assert b_pks.get(remote) not in ids, (model, field_name)
    assert checked
