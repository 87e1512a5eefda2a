"""Demo projects and money, calibrated to the article:

- 2018–2021: 107 old compounds renovated at a total investment of 386,000,000 yuan, from the
  article's five source kinds; in 2021, 15 regular projects completed and all 21 SOE
  transfer renovations completed;
- the 2022 batch: 23 compounds, 4,032 households; on 30 June 2022, 13 under construction and
  10 still in preparation; by the end of 2022 most are finished, the rest follow in 2023.

Projects are written through the same services staff use, so the demo obeys every rule
(lifecycle order, dates agreeing with status, money never exceeding its source)."""

import calendar
import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model

from residents.demo import willingness_survey_passed

from ..models import (
    Compound,
    Disbursement,
    District,
    FundingAllocation,
    FundingSource,
    ItemCategory,
    ProgressUpdate,
    ProjectItem,
    ProjectStatus,
    ProjectTransition,
    RenovationProject,
)
from ..services import (
    allocation_create,
    disbursement_create,
    funding_source_create,
    progress_record,
    project_create,
    project_transition,
)

Kind = FundingSource.Kind
date = datetime.date

# batch year → (regular projects, SOE transfer projects, total investment in yuan)
HISTORY = {
    2018: (20, 0, Decimal("62000000")),
    2019: (24, 0, Decimal("81000000")),
    2020: (27, 0, Decimal("98000000")),
    2021: (15, 21, Decimal("145000000")),
}
BATCH_2022 = 23
HOUSEHOLDS_2022 = 4032
# Of the 2022 batch on 30 June 2022: how many had started, and how far the rest had come.
STARTED_BY_JUNE_2022 = 13
# Shares of each project's money by source kind.
REGULAR_SHARES = [
    (Kind.CENTRAL_FISCAL, Decimal("0.45")),
    (Kind.CENTRAL_BUDGET, Decimal("0.25")),
    (Kind.DISTRICT_MATCHING, Decimal("0.20")),
    (Kind.UTILITY, Decimal("0.10")),
]
SOE_SHARES = [
    (Kind.SOE_TRANSFER, Decimal("0.70")),
    (Kind.DISTRICT_MATCHING, Decimal("0.20")),
    (Kind.UTILITY, Decimal("0.10")),
]
SOURCE_NAMES = {
    Kind.CENTRAL_FISCAL: "中央财政城镇老旧小区改造补助资金",
    Kind.CENTRAL_BUDGET: "中央预算内投资（老旧小区配套基础设施）",
    Kind.SOE_TRANSFER: "柳州市国资委三供一业移交改造资金",
    Kind.DISTRICT_MATCHING: "柳北区城区配套资金",
    Kind.UTILITY: "管线单位出资",
}
DOCUMENT_PREFIX = {
    Kind.CENTRAL_FISCAL: "桂财建",
    Kind.CENTRAL_BUDGET: "桂发改投资",
    Kind.SOE_TRANSFER: "柳国资",
    Kind.DISTRICT_MATCHING: "柳北财",
    Kind.UTILITY: "柳北住建",
}
BUILDERS = [
    "广西建工集团第五建筑工程有限责任公司",
    "柳州市建筑工程集团有限公司",
    "广西柳州市政工程有限公司",
]
SUPERVISORS = ["柳州市建设工程监理有限公司", "广西恒信建设工程监理有限公司"]
ITEM_MIX = [
    ("roof_waterproofing", Decimal("0.22"), lambda b, rng: b * rng.randint(300, 600)),
    ("roads", Decimal("0.18"), lambda b, rng: rng.randint(800, 3000)),
    ("drainage", Decimal("0.16"), lambda b, rng: Decimal(rng.randint(5, 20)) / 10),
    ("greening", Decimal("0.08"), lambda b, rng: rng.randint(200, 1200)),
    ("parking_spaces", Decimal("0.08"), lambda b, rng: rng.randint(10, 60)),
    ("ev_charging", Decimal("0.06"), lambda b, rng: rng.randint(4, 20)),
    ("lighting", Decimal("0.06"), lambda b, rng: rng.randint(10, 40)),
    ("fire_safety", Decimal("0.06"), lambda b, rng: b * 2),
    ("water_supply", Decimal("0.10"), lambda b, rng: Decimal(rng.randint(3, 12)) / 10),
]


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def month_ends_between(start: date, finish: date) -> list[date]:
    """Month ends strictly after `start` and strictly before `finish`."""
    ends, year, month = [], start.year, start.month
    while True:
        end = month_end(year, month)
        if end >= finish:
            return ends
        if end > start:
            ends.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def split(total: Decimal, shares: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """Split an amount by shares into whole yuan that add up exactly to the total."""
    parts = [(kind, (total * share).quantize(Decimal("1"))) for kind, share in shares[:-1]]
    parts.append((shares[-1][0], total - sum(amount for _, amount in parts)))
    return parts


def spread(total: Decimal, weights: list[int]) -> list[Decimal]:
    """Spread an amount over weights in whole thousands of yuan, adding up exactly."""
    whole = sum(weights)
    parts = [Decimal(int(total * weight / whole) // 1000 * 1000) for weight in weights]
    parts[-1] += total - sum(parts)
    return parts


def projects_load(district: District) -> None:
    compounds = Compound.objects.filter(community__sub_district__district=district)
    if RenovationProject.objects.filter(compound__in=compounds).exists():
        return
    office = get_user_model().objects.get(username="office")
    rng = random.Random(2018)
    old = list(compounds.filter(is_old=True).order_by("community__code", "code"))

    biggest = sorted(old, key=lambda c: (-c.households, c.code))[:35]
    batch_2022 = rng.sample(biggest, BATCH_2022)
    if sum(c.households for c in batch_2022) < HOUSEHOLDS_2022:
        batch_2022 = biggest[:BATCH_2022]
    rest = [c for c in old if c not in batch_2022]
    soe_pool = [c for c in rest if c.origin != Compound.Origin.REGULAR]
    soe = rng.sample(soe_pool, HISTORY[2021][1])
    regular_pool = [c for c in rest if c not in soe]
    regular_count = sum(plan[0] for plan in HISTORY.values())
    regular = rng.sample(regular_pool, regular_count)

    categories = {c.code: c for c in ItemCategory.objects.all()}
    sources: dict[tuple[int, str], list] = {}
    plans = []
    taken = 0
    for year, (regular_n, soe_n, investment) in HISTORY.items():
        chosen = [(c, RenovationProject.Kind.REGULAR) for c in regular[taken : taken + regular_n]]
        chosen += [(c, RenovationProject.Kind.SOE_TRANSFER) for c in (soe if soe_n else [])]
        taken += regular_n
        budgets = spread(investment, [c.households for c, _ in chosen])
        for (compound, kind), budget in zip(chosen, budgets, strict=True):
            plans.append(_history_plan(rng, compound, kind, year, budget))
    plans += _plans_2022(rng, batch_2022)

    # Funding sources sized to what the year's projects draw from each kind.
    for plan in plans:
        shares = (
            SOE_SHARES if plan["kind"] == RenovationProject.Kind.SOE_TRANSFER else REGULAR_SHARES
        )
        plan["money"] = split(plan["budget"], shares)
        for kind, amount in plan["money"]:
            sources.setdefault((plan["year"], kind), []).append(amount)
    source_rows = {}
    for (year, kind), amounts in sorted(sources.items()):
        source_rows[(year, kind)] = funding_source_create(
            kind=kind,
            year=year,
            name=f"{year}年{SOURCE_NAMES[kind]}",
            document_number=f"{DOCUMENT_PREFIX[kind]}〔{year}〕{len(source_rows) + 11}号",
            amount=sum(amounts),
            received_on=date(year, 3, 1),
        )

    for plan in plans:
        _build_project(rng, plan, office, source_rows, categories)


def _history_plan(rng, compound, kind, year, budget) -> dict:
    plan_approved = date(year, rng.randint(2, 3), rng.randint(1, 28))
    start = date(year, rng.randint(4, 6), rng.randint(1, 28))
    finish = date(year, rng.randint(9, 12), rng.randint(1, 20))
    return {
        "compound": compound,
        "kind": kind,
        "year": year,
        "budget": budget,
        "households": compound.households,
        "entered": date(year - 1, rng.randint(9, 11), rng.randint(1, 28)),
        "steps": [
            (ProjectStatus.FEASIBILITY, date(year, 1, rng.randint(5, 25))),
            (ProjectStatus.PLAN_APPROVED, plan_approved),
            (ProjectStatus.UNDER_CONSTRUCTION, start),
            (ProjectStatus.COMPLETED, finish),
            (ProjectStatus.ACCEPTED, finish + datetime.timedelta(days=rng.randint(60, 150))),
        ],
        "planned": (plan_approved + datetime.timedelta(days=20), date(year, 12, 20)),
        "key": False,
    }


def _plans_2022(rng, compounds: list[Compound]) -> list[dict]:
    total = sum(c.households for c in compounds)
    benefited = [c.households * HOUSEHOLDS_2022 // total for c in compounds]
    for index in range(HOUSEHOLDS_2022 - sum(benefited)):
        benefited[index] += 1
    plans = []
    for index, (compound, households) in enumerate(zip(compounds, benefited, strict=True)):
        started = index < STARTED_BY_JUNE_2022
        feasibility = date(2022, 1, rng.randint(5, 25))
        plan_approved = date(2022, rng.randint(2, 3), rng.randint(1, 28))
        if started:
            start = plan_approved + datetime.timedelta(days=rng.randint(10, 80))
            # Most finish in the autumn; three run late into 2023 (delayed at year end).
            finish = (
                date(2023, rng.randint(2, 4), rng.randint(1, 20))
                if index < 3
                else date(2022, rng.randint(10, 12), rng.randint(1, 20))
            )
            steps = [
                (ProjectStatus.FEASIBILITY, feasibility),
                (ProjectStatus.PLAN_APPROVED, plan_approved),
                (ProjectStatus.UNDER_CONSTRUCTION, start),
                (ProjectStatus.COMPLETED, finish),
                (ProjectStatus.ACCEPTED, finish + datetime.timedelta(days=rng.randint(60, 120))),
            ]
            planned_finish = date(2022, 12, 20)
        else:
            # In preparation on 30 June: some still in feasibility, some with an approved plan.
            if index % 3 == 0:
                plan_approved = date(2022, 7, rng.randint(1, 28))
            start = date(2022, rng.randint(8, 10), rng.randint(1, 28))
            finish = date(2023, rng.randint(4, 6), rng.randint(1, 28))
            steps = [
                (ProjectStatus.FEASIBILITY, feasibility),
                (ProjectStatus.PLAN_APPROVED, plan_approved),
                (ProjectStatus.UNDER_CONSTRUCTION, start),
                (ProjectStatus.COMPLETED, finish),
                (ProjectStatus.ACCEPTED, finish + datetime.timedelta(days=rng.randint(60, 120))),
            ]
            planned_finish = date(2023, 6, 30)
        plans.append(
            {
                "compound": compound,
                "kind": RenovationProject.Kind.REGULAR,
                "year": 2022,
                "budget": Decimal(households * rng.randint(18000, 26000)),
                "households": households,
                "entered": date(2021, rng.randint(9, 11), rng.randint(1, 28)),
                "steps": steps,
                "planned": (plan_approved + datetime.timedelta(days=20), planned_finish),
                "key": index in (0, 5, 14),
            }
        )
    return plans


def _build_project(rng, plan, office, sources, categories) -> None:
    compound = plan["compound"]
    buildings = list(compound.buildings.all())
    soe = plan["kind"] == RenovationProject.Kind.SOE_TRANSFER
    # Residents agree before a compound enters the pipeline: a passed willingness survey.
    willingness_survey_passed(
        compound, closed_on=plan["entered"], user=office, below=plan["year"] == 2022
    )
    project = project_create(
        compound=compound,
        batch_year=plan["year"],
        user=office,
        name=f"{compound.name}{'三供一业移交改造' if soe else '老旧小区改造'}项目",
        kind=plan["kind"],
        is_key=plan["key"],
        lead_unit="柳北区住房和城乡建设局" if not soe else "柳州市国资委",
        builder=rng.choice(BUILDERS),
        supervisor=rng.choice(SUPERVISORS),
        budget=plan["budget"],
        planned_start=plan["planned"][0],
        planned_finish=plan["planned"][1],
        plan=f"{compound.name}改造方案：屋面防水、道路、排水、绿化、停车位、新能源充电桩等。",
        buildings=buildings,
        households_benefited=plan["households"],
        entered_on=plan["entered"],
    )
    _add_items(rng, project, len(buildings), categories)
    steps = dict(plan["steps"])
    start, finish = steps[ProjectStatus.UNDER_CONSTRUCTION], steps[ProjectStatus.COMPLETED]
    allocations = []
    for status, on in plan["steps"]:
        project_transition(project=project, to_status=status, user=office, on=on)
        if status == ProjectStatus.PLAN_APPROVED:
            allocated_on = on + datetime.timedelta(days=5)
            for kind, amount in plan["money"]:
                allocations.append(
                    allocation_create(
                        source=sources[(plan["year"], kind)],
                        project=project,
                        amount=amount,
                        on=allocated_on,
                        user=office,
                    )
                )
        if status == ProjectStatus.UNDER_CONSTRUCTION:
            _pay(allocations, Decimal("0.3"), on + datetime.timedelta(days=10), office)
            months = month_ends_between(start, finish)
            for number, month in enumerate(months, start=1):
                percent = min(95, round(100 * number / (len(months) + 1)) + rng.randint(-3, 3))
                progress_record(project=project, percent=max(percent, 1), on=month, user=office)
                if number == len(months) // 2:
                    _pay(allocations, Decimal("0.4"), month, office)
        if status == ProjectStatus.COMPLETED:
            project.items.update(status=ProjectItem.Status.DONE)
        if status == ProjectStatus.ACCEPTED:
            _pay(allocations, None, on, office)


def _pay(allocations, share: Decimal | None, on: date, user) -> None:
    """Pay a share of each allocation, or (share None) whatever is left of it."""
    for allocation in allocations:
        paid = sum(d.amount for d in allocation.disbursements.all())
        amount = (
            allocation.amount - paid
            if share is None
            else (allocation.amount * share).quantize(Decimal("1"))
        )
        if amount > 0:
            disbursement_create(
                allocation=allocation, amount=amount, on=on, user=user, voucher=f"ZF{on:%Y%m%d}"
            )


def _add_items(rng, project, building_count: int, categories) -> None:
    items = []
    budgets = split(project.budget, [(code, share) for code, share, _ in ITEM_MIX])
    for (code, _share, quantity), (_code, budget) in zip(ITEM_MIX, budgets, strict=True):
        category = categories[code]
        items.append(
            ProjectItem(
                project=project,
                category=category,
                quantity=Decimal(quantity(max(building_count, 1), rng)),
                unit=category.default_unit,
                budget=budget,
                status=ProjectItem.Status.PLANNED,
            )
        )
    ProjectItem.objects.bulk_create(items)


def projects_reset(district: District) -> None:
    projects = RenovationProject.objects.filter(
        compound__community__sub_district__district=district
    )
    source_ids = set(
        FundingAllocation.objects.filter(project__in=projects).values_list("source_id", flat=True)
    )
    Disbursement.objects.filter(project__in=projects).delete()
    FundingAllocation.objects.filter(project__in=projects).delete()
    FundingSource.objects.filter(pk__in=source_ids, allocations=None).delete()
    ProgressUpdate.objects.filter(project__in=projects).delete()
    ProjectTransition.objects.filter(project__in=projects).delete()
    ProjectItem.objects.filter(project__in=projects).delete()
    projects.delete()
