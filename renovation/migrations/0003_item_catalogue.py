"""The national catalogue of renovation items in three classes (basic / improvement /
upgrade). Staff extend it in the admin; this only seeds the common items."""

from django.db import migrations

CATALOGUE = [
    # code, name, class, unit, national statistic
    ("roof_waterproofing", "屋面防水", "basic", "m2", ""),
    ("roads", "道路", "basic", "m2", ""),
    ("drainage", "排水管网", "basic", "km", "pipes_km"),
    ("water_supply", "供水管网", "basic", "km", "pipes_km"),
    ("power_supply", "供电线路", "basic", "km", "pipes_km"),
    ("gas_supply", "燃气管网", "basic", "km", "pipes_km"),
    ("heating", "供热管网", "basic", "km", "pipes_km"),
    ("telecom_lines", "通信线路规整", "basic", "km", "pipes_km"),
    ("fire_safety", "消防设施", "basic", "set", ""),
    ("lighting", "公共照明", "basic", "set", ""),
    ("facade", "外墙及楼道整治", "basic", "m2", ""),
    ("greening", "绿化", "improvement", "m2", ""),
    ("parking_spaces", "停车位", "improvement", "space", "parking"),
    ("ev_charging", "新能源充电桩", "improvement", "pile", "ev_piles"),
    ("lifts", "加装电梯", "improvement", "lift", "lifts"),
    ("barrier_free", "无障碍设施", "improvement", "set", ""),
    ("bicycle_sheds", "非机动车棚", "improvement", "set", ""),
    ("waste_sorting", "垃圾分类设施", "improvement", "set", ""),
    ("security", "安防监控", "improvement", "set", ""),
    ("elderly_care", "养老服务用房", "upgrade", "room", "elderly_rooms"),
    ("childcare", "托育服务用房", "upgrade", "room", "childcare_rooms"),
    ("community_service", "社区综合服务用房", "upgrade", "room", ""),
    ("canteen", "社区食堂", "upgrade", "room", ""),
    ("fitness", "健身文体设施", "upgrade", "set", ""),
]


def seed(apps, schema_editor):
    ItemCategory = apps.get_model("renovation", "ItemCategory")
    for order, (code, name, item_class, unit, statistic) in enumerate(CATALOGUE, start=1):
        ItemCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "item_class": item_class,
                "default_unit": unit,
                "statistic": statistic,
                "sort_order": order * 10,
            },
        )


def unseed(apps, schema_editor):
    ItemCategory = apps.get_model("renovation", "ItemCategory")
    ItemCategory.objects.filter(code__in=[row[0] for row in CATALOGUE], items=None).delete()


class Migration(migrations.Migration):
    dependencies = [("renovation", "0002_projects_and_funding")]

    operations = [migrations.RunPython(seed, unseed)]
