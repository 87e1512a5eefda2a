import pytest

from residents.models import Channel, RequestKind
from residents.services import request_create


@pytest.fixture
def grid(users):
    return users["grid_worker"]


@pytest.fixture
def staff(users):
    return users["community_staff"]


@pytest.fixture
def office(users):
    return users["programme_office"]


@pytest.fixture
def gy(registry):
    return registry["compounds"]["GY"]


@pytest.fixture
def make_request(registry, users):
    """Log a request through the service: by the grid worker in 广跃社区 (GY), by the
    programme office elsewhere."""

    def make(compound=None, *, user=None, kind=RequestKind.WISH, **extra):
        compound = compound or registry["compounds"]["GY"]
        if user is None:
            gy = compound.community_id == registry["a1"].pk
            user = users["grid_worker"] if gy else users["programme_office"]
        data = {
            "channel": Channel.DOOR_TO_DOOR,
            "description": "顶楼漏水，希望做屋面防水。",
            "contact_name": "王阿姨",
            "contact_phone": "13812345678",
            **extra,
        }
        return request_create(user=user, kind=kind, compound=compound, **data)

    return make
