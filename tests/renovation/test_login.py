import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

LOGIN = reverse("login")


def attempt(client, password, address="10.0.0.1", username="office"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_good_password_logs_in(client, users):
    response = attempt(client, "test-pass-123")
    assert response.status_code == 302


def test_wrong_password_says_so_in_chinese(client, users):
    response = attempt(client, "wrong")
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_repeated_failures_lock_the_user_name_from_that_address(client, users):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong")
    response = attempt(client, "test-pass-123")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lockout_does_not_block_the_same_user_elsewhere(client, users):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "wrong", address="10.0.0.1")
    assert attempt(client, "test-pass-123", address="10.0.0.2").status_code == 302


def test_sessions_expire(users):
    assert settings.SESSION_COOKIE_AGE <= 12 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


@pytest.mark.parametrize("password", ["short1", "1234567890", "password123", "office1234"])
def test_weak_passwords_are_refused(users, password):
    with pytest.raises(ValidationError):
        validate_password(password, users["programme_office"])
