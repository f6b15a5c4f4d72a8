import gzip
import zlib

import brotli
import pytest

from pipeline.fetch.charset import decode_body
from pipeline.fetch.decode import BoundedDecoder, DecodeError, TooLarge
from simulator.hostile import gzip_bomb


def _feed_all(decoder, data, chunk=16384):
    out = [decoder.feed(data[i:i + chunk]) for i in range(0, len(data), chunk)]
    return b"".join(out) + decoder.flush()


@pytest.mark.parametrize(
    ("coding", "encode"),
    [("gzip", gzip.compress), ("br", brotli.compress), ("deflate", zlib.compress),
     ("deflate", lambda b: (lambda c: c.compress(b) + c.flush())(zlib.compressobj(wbits=-15))),
     ("", lambda b: b), ("identity", lambda b: b)],
)
def test_decodes_each_coding(coding, encode):
    body = b"<p>hello world</p>" * 5000
    assert _feed_all(BoundedDecoder(coding, 10**7), encode(body)) == body


@pytest.mark.parametrize(("coding", "encode"), [("gzip", gzip.compress), ("br", brotli.compress)])
def test_limit_is_enforced_after_decompression(coding, encode):
    with pytest.raises(TooLarge):
        _feed_all(BoundedDecoder(coding, 1000), encode(b"x" * 5000))


def test_gzip_bomb_stops_at_the_limit_with_bounded_output():
    bomb = gzip_bomb(64 * 1024 * 1024)
    decoder = BoundedDecoder("gzip", 5 * 1024 * 1024)
    consumed = 0
    with pytest.raises(TooLarge):
        for i in range(0, len(bomb), 16384):
            decoder.feed(bomb[i:i + 16384])
            consumed += 16384
    assert decoder.size <= 5 * 1024 * 1024 + 1
    assert consumed < len(bomb) // 4  # stopped early, not after inflating everything


def test_corrupt_data_is_a_decode_error():
    with pytest.raises(DecodeError):
        _feed_all(BoundedDecoder("gzip", 10**6), b"definitely not gzip")
    with pytest.raises(DecodeError):
        BoundedDecoder("gzip, br", 10)


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
