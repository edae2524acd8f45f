"""The service fixtures, for the tests that run durability through a real server."""

from tests.service.conftest import make_server  # noqa: F401 (a fixture, used by name)
