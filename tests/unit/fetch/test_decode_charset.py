"""Content-Encoding through the whole client (aiohttp decodes, HttpClient caps the decoded size)
over pipeline.fetch.testing.MockConnector, and charset detection."""

import asyncio
import gzip
import tracemalloc
import zlib

import brotli
import pytest

from pipeline.config import load_settings
from pipeline.fetch.charset import decode_body
from pipeline.fetch.http import HttpClient, HttpResult
from pipeline.fetch.testing import MockConnector
from pipeline.outcomes import Status
from simulator.hostile import gzip_bomb

SETTINGS = load_settings({}, per_host_delay=0.0)


async def _public(host, port):
    return ["93.184.216.34"]


def _get(body: bytes, coding: str | None, max_bytes: int = 10**7, status: int = 200) -> HttpResult:
    headers = {"Content-Type": "text/html"} | ({"Content-Encoding": coding} if coding is not None else {})

    async def run():
        async with HttpClient(SETTINGS, connector=MockConnector(lambda request: (status, body, headers)),
                              resolver=_public) as http:
            return await http.get("http://news.example/page", max_bytes=max_bytes)
    return asyncio.run(run())


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("x-gzip", gzip.compress), ("GZIP", gzip.compress), ("br", brotli.compress),
     ("deflate", zlib.compress), ("deflate", _raw_deflate), (None, lambda b: b), ("identity", lambda b: b),
     ("utf-8", lambda b: b)],  # an unknown coding (a charset, as some servers send) is the identity
)
def test_decodes_each_coding(coding, encode):
    body = b"<p>hello world</p>" * 5000
    result = _get(encode(body), coding)
    assert result.failure is None and result.body == body


@pytest.mark.parametrize(("coding", "encode"), [("gzip", gzip.compress), ("x-gzip", gzip.compress),
                                                ("br", brotli.compress), ("deflate", zlib.compress)])
def test_limit_is_enforced_after_decompression(coding, encode):
    result = _get(encode(b"x" * 5000), coding, max_bytes=1000)
    assert result.failure is not None and result.failure.status == Status.TOO_LARGE
    assert result.failure.reason == "body exceeds limit of 1000 bytes after decompression"
    assert result.body is None


def _brotli_bomb(inflated: int) -> bytes:
    packer = brotli.Compressor(quality=1)
    chunk = b"\0" * (1 << 20)
    return b"".join(packer.process(chunk) for _ in range(inflated >> 20)) + packer.finish()


@pytest.mark.parametrize(("coding", "bomb"), [("gzip", lambda: gzip_bomb(64 * 1024 * 1024)),
                                              ("br", lambda: _brotli_bomb(64 * 1024 * 1024)),
                                              ("x-gzip", lambda: gzip_bomb(64 * 1024 * 1024))])
def test_a_bomb_stops_at_the_limit_with_bounded_memory(coding, bomb):
    """64 MB of zeros in well under 1 MB: decoding stops at the 5 MB cap, memory stays near the cap."""
    packed = bomb()
    tracemalloc.start()
    try:
        result = _get(packed, coding, max_bytes=5 * 1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.failure is not None and result.failure.status == Status.TOO_LARGE
    assert "after decompression" in result.failure.reason
    assert peak < 3 * 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_an_oversized_error_page_is_dropped_not_failed():
    result = _get(gzip_bomb(8 * 1024 * 1024), "gzip", status=503)
    assert result.status == 503 and result.failure is None and result.body is None


def test_corrupt_data_is_a_decode_error():
    for coding in ("gzip", "br", "x-gzip"):
        result = _get(b"definitely not compressed", coding)
        assert result.failure is not None and result.failure.status == Status.PARSE_ERROR
        assert result.failure.reason.startswith("content decoding failed")
    stacked = _get(gzip.compress(b"x"), "gzip, br")
    assert stacked.failure is not None and stacked.failure.status == Status.PARSE_ERROR
    assert stacked.failure.reason == "content decoding failed: unsupported stacked content-encoding 'gzip, br'"


def test_charset_declared_and_correct():
    text, cs = decode_body("café".encode(), "text/html; charset=UTF-8")
    assert (text, cs) == ("café", "utf-8")


def test_wrong_declared_charset_is_overridden():
    body = ("<p>Le café au coin de la rue a rouvert. Les habitués étaient ravis de retrouver leurs crêpes.</p>" * 5)
    text, cs = decode_body(body.encode("cp1252"), "text/html; charset=utf-8")
    assert "café" in text and "crêpes" in text and cs == "cp1252"


def test_latin1_declared_but_utf8_sent():
    text, cs = decode_body("<p>Grüße aus Köln</p>".encode(), "text/html; charset=iso-8859-1")
    assert text == "<p>Grüße aus Köln</p>" and cs == "utf-8"


def test_meta_charset_and_bom():
    html = '<html><head><meta charset="shift_jis"></head><body>日本語のニュース</body></html>'
    text, cs = decode_body(html.encode("shift_jis"), "text/html")
    assert "日本語" in text and cs == "shift_jis"
    text, cs = decode_body("hello".encode("utf-8-sig"), None)
    assert text == "hello"
