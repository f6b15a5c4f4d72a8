"""Decode a fetched body: BOM, then the declared charsets (header, <meta>) if they decode cleanly,
then detection. Declared charsets lie often enough that a strict decode is the test."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_WESTERNISH = {"cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_9", "iso8859_15",
               "iso8859_13", "mac_roman", "mac_latin2", "cp850", "cp437"}
_LATIN = {"iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "cp1252", "windows-1252"}


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return m.group(1).lower() if m else None


def _normal(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_body(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, charset used)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, errors="replace"), name
    head = body[:4096]
    declared = [charset_from_content_type(content_type)]
    for pattern in (_META, _XML_DECL):
        m = pattern.search(head)
        declared.append(m.group(1).decode("ascii", "ignore").lower() if m else None)
    for name in filter(None, declared):
        codec = _normal(name)
        if codec is None:
            continue
        if codec in {_normal(n) for n in _LATIN}:
            # Latin-1 never fails to decode; prefer UTF-8 when the bytes are valid, non-ASCII UTF-8.
            try:
                text = body.decode("utf-8")
                if not text.isascii():
                    return text, "utf-8"
            except UnicodeDecodeError:
                pass
            codec = "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec
            return body.decode(codec, errors="replace"), codec
        try:
            return body.decode(codec), codec
        except UnicodeDecodeError:
            continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(body[:200_000]).best()
    codec = best.encoding if best is not None else "cp1252"
    if codec in _WESTERNISH:
        # short Latin-script samples are ambiguous between these; windows-1252 is the web's default
        codec = "cp1252"
    return body.decode(codec, errors="replace"), codec
