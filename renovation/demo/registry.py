"""The demo registry: 482 compounds, of which 310 are old (64.32%), and one user per role."""

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from ..models import Building, Community, Compound, District, Role, StaffProfile, SubDistrict

DISTRICT = ("柳北区", "LB")
COMPOUND_TOTAL = 482
OLD_COMPOUND_TOTAL = 310
DEMO_PASSWORD = "xinsheng-demo"

# Sub-districts and their communities. The article names 雅儒街道 and 广跃社区; the rest
# are plausible fictional names.
SUB_DISTRICTS = [
    ("雅儒街道", "YR", ["广跃社区", "雅儒社区", "北雀社区", "跃进路社区", "白沙社区"]),
    ("解放街道", "JF", ["解放南社区", "解放北社区", "三中社区", "柳北社区", "东环社区"]),
    ("胜利街道", "SL", ["胜利东社区", "胜利西社区", "雀山社区", "长风社区", "黄村社区"]),
    ("白露街道", "BL", ["白露社区", "华丰湾社区", "沙塘路社区", "北站社区", "杨柳社区"]),
    ("锦绣街道", "JX", ["锦绣社区", "香兰社区", "和平社区", "光荣社区"]),
    ("钢城街道", "GC", ["钢城社区", "钢花社区", "铁山社区", "冶炼社区", "新村社区"]),
    ("跃进街道", "YJ", ["跃进社区", "机务社区", "水南社区", "长塘路社区"]),
    ("柳长街道", "LC", ["柳长社区", "鹧鸪江社区", "林场社区", "古亭社区"]),
]

_OWNERS = [
    "柳州市第二棉纺厂（已破产）",
    "柳州市皮革厂（已破产）",
    "柳州市机械厂（已破产）",
    "柳州市印刷厂（已破产）",
    "柳州市化肥厂（已破产）",
    "柳州市糖厂（已破产）",
    "柳北区供销社",
    "柳州市粮食局",
    "柳州市房产管理局",
    "柳州钢铁厂",
]
_DORMITORY_NAMES = [
    "棉纺厂宿舍",
    "皮革厂宿舍",
    "机械厂宿舍",
    "印刷厂宿舍楼",
    "化肥厂宿舍",
    "糖厂宿舍",
]
_OLD_NAMES = [
    "供销社宿舍",
    "粮食局宿舍",
    "工人新村",
    "红星宿舍",
    "东风宿舍",
    "胜利小区",
    "友谊小区",
]
_NEW_NAMES = ["花园", "雅苑", "华庭", "新城", "家园", "名都"]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role | None
    sub_district: str | None = None
    community: str | None = None
    superuser: bool = False


DEMO_USERS = [
    DemoUser("admin", None, superuser=True),
    DemoUser("office", Role.PROGRAMME_OFFICE),
    DemoUser("finance", Role.FINANCE),
    DemoUser("organisation", Role.ORGANISATION),
    DemoUser("publicity", Role.PUBLICITY),
    DemoUser("leader", Role.LEADER),
    DemoUser("yaru", Role.SUB_DISTRICT_STAFF, sub_district="YR"),
    DemoUser("guangyue", Role.COMMUNITY_STAFF, community="GY"),
    DemoUser("grid", Role.GRID_WORKER, community="GY"),
]


def registry_load() -> District:
    """The demo district, its registry and the demo users."""
    district = _load_places()
    _load_compounds(district)
    _load_users(district)
    return district


def registry_reset(district: District) -> None:
    get_user_model().objects.filter(username__in=[u.username for u in DEMO_USERS]).delete()
    Building.objects.filter(compound__community__sub_district__district=district).delete()
    Compound.objects.filter(community__sub_district__district=district).delete()
    StaffProfile.objects.filter(community__sub_district__district=district).delete()
    StaffProfile.objects.filter(sub_district__district=district).delete()
    Community.objects.filter(sub_district__district=district).delete()
    SubDistrict.objects.filter(district=district).delete()
    district.delete()


def _load_places() -> District:
    district, _ = District.objects.get_or_create(code=DISTRICT[1], defaults={"name": DISTRICT[0]})
    for sub_name, sub_code, communities in SUB_DISTRICTS:
        sub, _ = SubDistrict.objects.get_or_create(
            district=district, code=sub_code, defaults={"name": sub_name}
        )
        for index, name in enumerate(communities, start=1):
            code = "GY" if name == "广跃社区" else f"{sub_code}{index:02d}"
            Community.objects.get_or_create(sub_district=sub, code=code, defaults={"name": name})
    return district


def _compound_plan(communities: list[Community]) -> list[tuple[Compound, list[Building]]]:
    """The whole demo registry, the same on every run."""
    rng = random.Random(2022)
    old_flags = [True] * OLD_COMPOUND_TOTAL + [False] * (COMPOUND_TOTAL - OLD_COMPOUND_TOTAL)
    rng.shuffle(old_flags)
    plan = []
    used_names: set[tuple[int, str]] = set()
    for index, is_old in enumerate(old_flags):
        community = communities[index % len(communities)]
        dormitory = is_old and rng.random() < 0.45
        if dormitory:
            base = rng.choice(_DORMITORY_NAMES)
        elif is_old:
            base = rng.choice(_OLD_NAMES)
        else:
            base = community.name.removesuffix("社区") + rng.choice(_NEW_NAMES)
        name, suffix = base, 2
        while (community.pk, name) in used_names:
            name, suffix = f"{base}{suffix}区", suffix + 1
        used_names.add((community.pk, name))

        building_count = 1 if dormitory else rng.randint(2, 8)
        buildings = [
            Building(
                number=f"{n}栋",
                floors=rng.randint(5, 7) if is_old else rng.randint(11, 33),
                units=rng.randint(1, 3),
                households=rng.choice([12, 18, 24, 30, 36]) if is_old else rng.randint(60, 180),
            )
            for n in range(1, building_count + 1)
        ]
        if dormitory:
            origin = Compound.Origin.ENTERPRISE_DORMITORY
        elif is_old:
            origin = rng.choice([Compound.Origin.WORK_UNIT, Compound.Origin.REGULAR])
        else:
            origin = Compound.Origin.REGULAR
        compound = Compound(
            community=community,
            name=name,
            code=f"{community.code}-{index + 1:03d}",
            address=f"柳北区{community.name.removesuffix('社区')}路{rng.randint(1, 300)}号",
            build_year=rng.randint(1965, 2000) if is_old else rng.randint(2001, 2018),
            is_old=is_old,
            origin=origin,
            original_owner_unit=rng.choice(_OWNERS) if origin != Compound.Origin.REGULAR else "",
            households=sum(b.households for b in buildings),
            declared_building_count=building_count,
            property_management=(
                rng.choice(
                    [
                        Compound.PropertyManagement.NONE,
                        Compound.PropertyManagement.NONE,
                        Compound.PropertyManagement.SELF_MANAGED,
                        Compound.PropertyManagement.COMMUNITY,
                    ]
                )
                if is_old
                else Compound.PropertyManagement.COMPANY
            ),
            notes="单栋宿舍楼" if dormitory else "",
        )
        plan.append((compound, buildings))
    return plan


def _load_compounds(district: District) -> None:
    communities = list(
        Community.objects.filter(sub_district__district=district).order_by(
            "sub_district__code", "code"
        )
    )
    plan = _compound_plan(communities)
    existing = set(
        Compound.objects.filter(community__in=communities).values_list("community_id", "code")
    )
    Compound.objects.bulk_create(
        [c for c, _ in plan if (c.community_id, c.code) not in existing], batch_size=500
    )
    ids = dict(
        (
            ((cid, code), pk)
            for pk, cid, code in Compound.objects.filter(community__in=communities).values_list(
                "pk", "community_id", "code"
            )
        )
    )
    have = set(
        Building.objects.filter(compound__community__in=communities).values_list(
            "compound_id", "number"
        )
    )
    missing = []
    for compound, buildings in plan:
        compound_id = ids[(compound.community_id, compound.code)]
        for building in buildings:
            if (compound_id, building.number) not in have:
                building.compound_id = compound_id
                missing.append(building)
    Building.objects.bulk_create(missing, batch_size=1000)


def _load_users(district: District) -> None:
    User = get_user_model()
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=spec.username,
            defaults={"is_staff": spec.role != Role.GRID_WORKER, "is_superuser": spec.superuser},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if spec.role is None:
            continue
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "role": spec.role,
                "sub_district": (
                    SubDistrict.objects.get(district=district, code=spec.sub_district)
                    if spec.sub_district
                    else None
                ),
                "community": (
                    Community.objects.get(sub_district__district=district, code=spec.community)
                    if spec.community
                    else None
                ),
            },
        )
