"""Settings are read from the environment, and every variable they read is documented."""

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import settings as project_settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_environment_variable_is_listed_in_env_example():
    source = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"', source))
    documented = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_a_bad_boolean_is_refused_clearly(monkeypatch, value):
    monkeypatch.setenv("DJANGO_DEBUG", value)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        project_settings.env_bool("DJANGO_DEBUG", True)


def test_defaults_are_chinese_and_shanghai():
    assert project_settings.LANGUAGE_CODE == "zh-hans"
    assert project_settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in project_settings.LANGUAGES
