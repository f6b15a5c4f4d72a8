import asyncio
import ipaddress

import pytest

from pipeline.config import load_settings
from pipeline.fetch.guard import AddressPolicy, check_url

STRICT = AddressPolicy()
LOOPBACK_ONLY = AddressPolicy.from_settings(load_settings({}, allow_private_addresses=True,
                                                          allowed_private_networks="127.0.0.0/8"))
ANY_PRIVATE = AddressPolicy(allow_private=True)


@pytest.mark.parametrize(
    ("address", "word"),
    [("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.1", "private"), ("192.168.1.5", "private"),
     ("172.16.0.9", "private"), ("169.254.1.1", "link-local"), ("169.254.169.254", "metadata"),
     ("fd00:ec2::254", "metadata"), ("100.64.0.1", "CGNAT"), ("0.0.0.0", "unspecified"),
     ("::ffff:10.0.0.1", "private"), ("fe80::1", "link-local"), ("224.0.0.1", "multicast"),
     ("240.0.0.1", "reserved"), ("255.255.255.255", "reserved")],
)
def test_strict_policy_refuses_internal_addresses(address, word):
    reason = STRICT.refusal(ipaddress.ip_address(address))
    assert reason is not None and word in reason


def test_public_addresses_pass():
    for a in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert STRICT.refusal(ipaddress.ip_address(a)) is None


def test_allow_private_can_be_narrowed_and_never_allows_metadata():
    assert LOOPBACK_ONLY.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert "outside the allowed networks" in LOOPBACK_ONLY.refusal(ipaddress.ip_address("10.0.0.1"))
    assert ANY_PRIVATE.refusal(ipaddress.ip_address("10.0.0.1")) is None
    assert "metadata" in ANY_PRIVATE.refusal(ipaddress.ip_address("169.254.169.254"))
    assert "link-local" in ANY_PRIVATE.refusal(ipaddress.ip_address("169.254.10.10"))


def _resolver(mapping):
    async def resolve(host, port):
        if host not in mapping:
            raise OSError("Name or service not known")
        return mapping[host]
    return resolve


@pytest.mark.parametrize(
    ("url", "expected"),
    [("https://news.example/a", None),
     ("https://sneaky.example/a", "host sneaky.example: 10.0.0.7 is a private address"),
     ("https://mixed.example/a", "host mixed.example: 127.0.0.1 is a loopback address"),
     ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
     ("http://[::1]:8080/", "::1 is a loopback address"),
     ("http://localhost/", "host localhost is loopback"),
     ("ftp://news.example/a", "unsupported URL scheme 'ftp'")],
)
def test_check_url_resolves_and_checks_every_address(url, expected):
    resolver = _resolver({"news.example": ["93.184.216.34"], "sneaky.example": ["10.0.0.7"],
                          "mixed.example": ["93.184.216.34", "127.0.0.1"]})
    assert asyncio.run(check_url(url, STRICT, resolver)) == expected


def test_unresolvable_host_is_a_network_failure_not_a_refusal():
    from pipeline.fetch.guard import ResolutionFailed

    with pytest.raises(ResolutionFailed, match="cannot resolve nowhere.example: Name or service not known"):
        asyncio.run(check_url("https://nowhere.example/", STRICT, _resolver({})))


def test_caching_resolver_asks_once_per_ttl():
    from pipeline.fetch.guard import CachingResolver

    calls = []

    async def inner(host, port):
        calls.append(host)
        return ["93.184.216.34"]

    async def run():
        resolver = CachingResolver(inner, ttl=60)
        for _ in range(3):
            assert await resolver("news.example", 443) == ["93.184.216.34"]
        await resolver("other.example", 443)
        expired = CachingResolver(inner, ttl=0)
        await expired("x.example", 80)
        await expired("x.example", 80)

    asyncio.run(run())
    assert calls == ["news.example", "other.example", "x.example", "x.example"]
