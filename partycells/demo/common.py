"""What the parts of the party-cell demo share: fixed names and texts, and helpers."""

import datetime
import random

from django.utils import timezone

from renovation.models import District, RenovationProject

from ..models import (
    Activity,
    VolunteerTeam,
)

date = datetime.date
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗梁韦覃蒙莫廖"
GIVEN = "建国华平明伟芳丽军强敏静磊洋勇艳杰娟涛超秀兰桂英志红玉霞春海"
FIRST_MONTH, LAST_MONTH = date(2021, 1, 1), date(2022, 12, 1)
ACTIVITY_YEAR = 2022
DISPATCHING_UNITS = ["柳北区发展和改革局", "柳北区财政局", "柳北区住房和城乡建设局", "柳北区民政局"]
JOINT_MATTERS = [
    ("区住建局", "", "督促各街道完成下一批次老旧小区居民改造意愿摸排，汇总需求清单。"),
    ("区住建局", "", "完成本批次项目可行性研究和建设方案审查，做到一小区一方案。"),
    ("区财政局", "", "按项目进度拨付中央财政补助资金和城区配套资金。"),
    ("区财政局", "", "制定下一年度老旧小区改造筹资方案，报区政府审定。"),
    ("区委组织部", "", "为新开工项目组建一线支部，重点项目明确第一书记。"),
    ("区委组织部", "", "选派年轻干部到一线支部蹲点育苗，月底前报名单。"),
    ("区委宣传部", "", "结合创建文明城市，制定小区改造宣传方案和基本要求。"),
    ("区发改局", "", "申报下一年度中央预算内投资配套基础设施项目。"),
    ("区城管局", "", "协调拆除改造小区内违章搭建，配合施工进场。"),
    ("", "雅儒街道办事处", "协调管线单位对雅儒片区供水、燃气管线同步迁改。"),
    ("", "解放街道办事处", "组织居民代表参与施工质量监督，建立问题台账。"),
    ("", "柳州市供电局柳北分局", "完成改造小区新能源充电桩配套电力增容。"),
]
COMMITTEE_MATTERS = [
    "施工单位调整午间作业时间，减少噪音扰民。",
    "楼栋党小组逐户通知停水停电时间。",
    "监督队每周巡查施工安全文明措施。",
    "调解队跟进居民反映的排水问题。",
]
ESCALATIONS = [
    "小区东门违章搭建影响材料进场，需社区和街道协调城管拆除。",
    "供水管迁改涉及管线单位，支部协调不下，请街道出面。",
    "个别住户拒绝拆除占道雨棚，需社区上门做工作。",
]
ANSWERS = ["已到现场，明天召集相关方协调。", "已对接责任单位，本周内处理。"]
TEAMS = [
    (VolunteerTeam.Kind.STEWARD, "管家团"),
    (VolunteerTeam.Kind.MEDIATION, "调解队"),
    (VolunteerTeam.Kind.SUPERVISION, "监督队"),
    (VolunteerTeam.Kind.SELF_GOVERNANCE, "改造工作自治小组"),
]
ACTIVITY_KINDS = [
    (Activity.Kind.MOBILISATION_DAY, "入户宣传改造方案，发放告知书。"),
    (Activity.Kind.OPINION_DAY, "在小区广场设点收集居民意见。"),
    (Activity.Kind.RECEPTION_DAY, "支部书记在党群服务站接待居民。"),
    (Activity.Kind.BRANCH_MEETING, "支部党员学习并研究当月施工难题。"),
]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def moment(day: date, rng, hour: tuple[int, int] = (8, 18)) -> datetime.datetime:
    clock = datetime.time(rng.randint(*hour), rng.randint(0, 59))
    return timezone.make_aware(datetime.datetime.combine(day, clock))


def projects_built(district: District) -> list[RenovationProject]:
    """The projects built in 2021–2022, which the demo gives branches."""
    return list(
        RenovationProject.objects.filter(
            compound__community__sub_district__district=district,
            batch_year__in=[2021, 2022],
            plan_approved_on__isnull=False,
        )
        .select_related("compound__community__sub_district")
        .order_by("batch_year", "pk")
    )
