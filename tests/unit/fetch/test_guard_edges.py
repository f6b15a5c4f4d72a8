"""The SSRF guard's edges, each checked on its own: how the allowed networks are read, local host
names, what a resolver is asked and what it may answer, the resolver cache's expiry, and the
connector resolver's answer to aiohttp. (Mutation testing found these unpinned: scripts/mutation guard.)"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import pytest

from pipeline.config import load_settings
from pipeline.fetch import guard
from pipeline.fetch.connect import GuardedResolver, guarded_socket_factory
from pipeline.fetch.guard import (
    AddressPolicy,
    AddressRefused,
    CachingResolver,
    ResolutionFailed,
    address_refusal,
    allowed_addresses,
    check_url,
    system_resolver,
)

STRICT = AddressPolicy()


def policy(networks: str) -> AddressPolicy:
    return AddressPolicy.from_settings(load_settings({}, allow_private_addresses=True,
                                                     allowed_private_networks=networks))


def test_allowed_networks_are_a_comma_separated_list_and_host_bits_are_ignored():
    both = policy("127.0.0.0/8,10.1.2.3/16, ,192.168.0.0/24")
    assert both.allowed_networks == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("10.1.0.0/16"),
                                     ipaddress.ip_network("192.168.0.0/24"))
    assert both.refusal(ipaddress.ip_address("10.1.200.1")) is None
    assert both.refusal(ipaddress.ip_address("192.168.0.9")) is None
    assert both.refusal(ipaddress.ip_address("10.2.0.1")) == "10.2.0.1 is a private address outside the allowed networks"
    assert policy("").allowed_networks == ()


def recording(answers: dict[str, list[str]], asked: list[tuple[str, int]]):
    async def resolve(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return answers[host]
    return resolve


@pytest.mark.parametrize(("url", "port"), [("https://news.example/a", 443), ("http://news.example/a", 80),
                                           ("https://news.example:8443/a", 8443), ("http://news.example:81/", 81)])
def test_the_resolver_is_asked_for_the_urls_host_and_port(url, port):
    asked: list[tuple[str, int]] = []
    assert asyncio.run(check_url(url, STRICT, recording({"news.example": ["93.184.216.34"]}, asked))) is None
    assert asked == [("news.example", port)]


@pytest.mark.parametrize(("url", "reason"), [
    ("http:///only-a-path", "URL has no host"),
    ("https://news.example:99999/", "URL has an invalid port"),
    ("file:///etc/passwd", "unsupported URL scheme 'file'"),
    ("http://[::1/", "invalid URL: Invalid IPv6 URL"),
    ("http://news.example]/", "invalid URL: Invalid IPv6 URL"),
    ("http://[zz]/", "invalid URL: 'zz' does not appear to be an IPv4 or IPv6 address"),
])
def test_urls_without_a_reachable_host_are_refused_with_the_reason(url, reason):
    asked: list[tuple[str, int]] = []
    assert asyncio.run(check_url(url, STRICT, recording({}, asked))) == reason
    assert asked == []


@pytest.mark.parametrize("host", ["localhost", "LocalHost", "localhost.localdomain", "app.localhost", "A.B.LOCALHOST"])
def test_local_host_names_are_refused_without_asking_the_resolver(host):
    asked: list[tuple[str, int]] = []
    with pytest.raises(AddressRefused, match=f"^host {host} is loopback$"):
        asyncio.run(allowed_addresses(host, 80, STRICT, recording({}, asked)))
    assert asked == []
    # allowed when private addresses are: then the resolver's answer is checked as usual
    assert asyncio.run(allowed_addresses(host, 80, policy("127.0.0.0/8"),
                                         recording({host: ["127.0.0.1"]}, asked))) == ["127.0.0.1"]
    assert asked == [(host, 80)]


def test_names_that_merely_contain_localhost_are_resolved():
    asked: list[tuple[str, int]] = []
    answers = {"localhost.example": ["93.184.216.34"], "mylocalhost": ["93.184.216.34"]}
    for host in answers:
        assert asyncio.run(allowed_addresses(host, 80, STRICT, recording(answers, asked))) == ["93.184.216.34"]
    assert [h for h, _ in asked] == list(answers)


def test_what_a_resolver_may_answer():
    STRICT = AddressPolicy()  # noqa: N806 - a fresh policy: no verdict remembered from another test

    def answer(*addresses: str):
        return recording({"x.example": list(addresses)}, [])

    with pytest.raises(ResolutionFailed, match=r"^cannot resolve x\.example: no addresses$"):
        asyncio.run(allowed_addresses("x.example", 80, STRICT, answer()))
    with pytest.raises(AddressRefused, match=r"^x\.example resolved to an unparseable address 'not-an-ip'$"):
        asyncio.run(allowed_addresses("x.example", 80, STRICT, answer("93.184.216.34", "not-an-ip")))
    # an IPv6 answer with a zone is judged by its address
    with pytest.raises(AddressRefused, match=r"^host x\.example: fe80::1 is a link-local address$"):
        asyncio.run(allowed_addresses("x.example", 80, STRICT, answer("fe80::1%eth0")))
    assert asyncio.run(allowed_addresses("x.example", 80, STRICT, answer("93.184.216.34", "2606:2800:220:1::1"))) == [
        "93.184.216.34", "2606:2800:220:1::1"]


async def _unicode_error(host: str, port: int) -> list[str]:
    raise UnicodeError("label too long")


def test_a_name_that_cannot_be_encoded_is_a_resolution_failure():
    with pytest.raises(ResolutionFailed, match="^cannot resolve x.example: label too long$"):
        asyncio.run(allowed_addresses("x.example", 80, STRICT, _unicode_error))


def test_literal_addresses_are_judged_without_a_resolver():
    STRICT = AddressPolicy()  # noqa: N806 - a fresh policy: no verdict remembered from another test
    asked: list[tuple[str, int]] = []
    resolver = recording({}, asked)
    assert asyncio.run(allowed_addresses("93.184.216.34", 80, STRICT, resolver)) == ["93.184.216.34"]
    assert asyncio.run(allowed_addresses("[2606:2800:220:1::1]", 80, STRICT, resolver)) == ["2606:2800:220:1::1"]
    with pytest.raises(AddressRefused, match=r"^::1 is a loopback address$"):
        asyncio.run(allowed_addresses("[::1]", 80, STRICT, resolver))
    assert asked == []
    # a host name that only looks like an address once characters are stripped is a name
    named = recording({"X10.0.0.1": ["93.184.216.34"]}, asked)
    assert asyncio.run(allowed_addresses("X10.0.0.1", 80, STRICT, named)) == ["93.184.216.34"]
    assert asked == [("X10.0.0.1", 80)]


def test_address_refusal_of_unparseable_and_allowed_addresses():
    STRICT = AddressPolicy()  # noqa: N806 - a fresh policy: no verdict remembered from another test
    assert address_refusal(STRICT, "garbage") == "unparseable address 'garbage'"
    assert address_refusal(STRICT, "93.184.216.34") is None
    assert address_refusal(STRICT, "10.0.0.1") == "10.0.0.1 is a private address"
    assert address_refusal(STRICT, "::ffff:127.0.0.1") == "127.0.0.1 is a loopback address"  # IPv4-mapped


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "127.0.0.1 is a loopback address"), ("::1", "::1 is a loopback address"),
    ("169.254.1.1", "169.254.1.1 is a link-local address"), ("0.0.0.0", "0.0.0.0 is a unspecified address"),
    ("::", ":: is a unspecified address"), ("224.0.0.1", "224.0.0.1 is a multicast address"),
    ("ff02::1", "ff02::1 is a multicast address"), ("100.64.0.1", "100.64.0.1 is a shared (CGNAT) address"),
    ("240.0.0.1", "240.0.0.1 is a reserved address"), ("10.0.0.1", "10.0.0.1 is a private address"),
    ("fd12::1", "fd12::1 is a private address"), ("169.254.169.254", "169.254.169.254 is a cloud metadata address"),
    ("100.100.100.200", "100.100.100.200 is a cloud metadata address"),
    ("::ffff:169.254.169.254", "169.254.169.254 is a cloud metadata address"),
])
def test_each_kind_of_refused_address_is_named_exactly(address, reason):
    assert STRICT.refusal(ipaddress.ip_address(address)) == reason


def test_verdicts_are_remembered_per_address_and_the_memory_is_bounded(monkeypatch):
    own = AddressPolicy()
    calls: list[str] = []
    original = AddressPolicy.refusal

    def counting(self, ip):
        calls.append(str(ip))
        return original(self, ip)

    monkeypatch.setattr(AddressPolicy, "refusal", counting)
    assert address_refusal(own, "10.0.0.1") == address_refusal(own, "10.0.0.1") == "10.0.0.1 is a private address"
    assert address_refusal(own, "93.184.216.34") is None and address_refusal(own, "93.184.216.34") is None
    assert calls == ["10.0.0.1", "93.184.216.34"]
    for n in range(4094):
        address_refusal(own, f"93.185.{n // 256}.{n % 256}")
    assert len(own._verdicts) == 4096  # full: the next new address starts the memory afresh
    address_refusal(own, "93.186.0.1")
    assert len(own._verdicts) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cached_answers_expire_after_exactly_the_ttl(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(guard.time, "monotonic", clock)
    asked: list[tuple[str, int]] = []
    resolver = CachingResolver(recording({"news.example": ["93.184.216.34"]}, asked))  # the default ttl: 60 s

    async def at(seconds: float) -> list[str]:
        clock.now = 1000.0 + seconds
        return await resolver("news.example", 8443)

    async def main() -> None:
        await at(0)
        await at(59.999)
        assert asked == [("news.example", 8443)]
        await at(60.0)  # the answer is 60 s old: asked again
        assert asked == [("news.example", 8443)] * 2

    asyncio.run(main())


def test_system_resolver_asks_for_tcp_addresses_and_returns_each_once():
    calls = []

    async def main() -> list[str]:
        loop = asyncio.get_running_loop()

        async def getaddrinfo(host, port, *, type=0, **kw):
            calls.append((host, port, type))
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", port)),
                    (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:db8::7", port, 0, 0)),
                    (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.0.2.7", port))]

        loop.getaddrinfo = getaddrinfo
        return await system_resolver("news.example", 443)

    assert asyncio.run(main()) == ["192.0.2.7", "2001:db8::7"]
    assert calls == [("news.example", 443, socket.SOCK_STREAM)]


def test_system_resolver_on_this_machine():
    assert asyncio.run(system_resolver("127.0.0.2", 80)) == ["127.0.0.2"]


def test_the_connector_resolver_answers_aiohttp_with_checked_addresses_only():
    asked: list[tuple[str, int]] = []
    answers = {"news.test": ["127.0.0.1", "::1"], "evil.test": ["93.184.216.34", "10.0.0.1"]}
    resolver = GuardedResolver(policy("127.0.0.0/8,::1/128"), recording(answers, asked), timeout=1.0)

    async def main() -> None:
        assert await resolver.resolve("news.test", 8443) == [
            {"hostname": "news.test", "host": "127.0.0.1", "port": 8443, "family": socket.AF_INET, "proto": 0,
             "flags": socket.AI_NUMERICHOST},
            {"hostname": "news.test", "host": "::1", "port": 8443, "family": socket.AF_INET6, "proto": 0,
             "flags": socket.AI_NUMERICHOST}]
        assert [r["port"] for r in await resolver.resolve("news.test")] == [0, 0]  # aiohttp's default port
        with pytest.raises(AddressRefused, match="10.0.0.1 is a private address outside the allowed networks"):
            await resolver.resolve("evil.test", 80)
        assert await resolver.close() is None

    asyncio.run(main())
    assert asked == [("news.test", 8443), ("news.test", 0), ("evil.test", 80)]


def test_the_connector_resolver_gives_up_after_its_timeout():
    async def slow(host: str, port: int) -> list[str]:
        await asyncio.sleep(5)
        return ["93.184.216.34"]

    async def main() -> None:
        with pytest.raises(TimeoutError):
            await GuardedResolver(STRICT, slow, timeout=0.05).resolve("slow.example", 80)

    asyncio.run(main())


def test_the_socket_factory_opens_allowed_sockets_only():
    factory = guarded_socket_factory(policy("127.0.0.0/8,::1/128"))
    with factory((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 80))) as sock:
        assert (sock.family, sock.type, sock.proto) == (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    with factory((socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("::1", 80, 0, 0))) as sock:
        assert (sock.family, sock.type, sock.proto) == (socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    with pytest.raises(AddressRefused, match="^169.254.169.254 is a cloud metadata address$"):
        factory((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("169.254.169.254", 80)))
    with pytest.raises(AddressRefused, match="^10.0.0.1 is a private address outside the allowed networks$"):
        factory((socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("10.0.0.1", 80)))


def test_the_default_trust_is_certifis_bundle_with_full_verification():
    import ssl

    import certifi

    from pipeline.fetch.connect import default_tls_context

    context = default_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    def serials(ctx: ssl.SSLContext) -> set[str]:  # get_ca_certs() has no stable order
        return {ca["serialNumber"] for ca in ctx.get_ca_certs()}

    certifi_cas = serials(ssl.create_default_context(cafile=certifi.where()))
    assert len(certifi_cas) > 50 and serials(context) == certifi_cas
