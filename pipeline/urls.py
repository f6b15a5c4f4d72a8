"""URL canonicalisation: one spelling per article, so the article id (a hash of it) is stable.

- lowercase scheme and host, drop default ports, userinfo and the fragment;
- drop tracking parameters (utm_*, fbclid, gclid, ...) and sort the rest;
- unwrap common redirect wrappers (Google, Facebook, Outlook safelinks, ...).
"""

from __future__ import annotations

import functools
import hashlib
import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

__all__ = ["canonicalize_url", "is_http_url", "unwrap_redirect", "url_hash", "host_of"]

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "hsa_", "_hs", "vero_", "oly_", "__s")
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "ocid", "cmpid", "cmp", "icid", "ncid",
        "ito", "smid", "smtyp", "soc_src", "soc_trk", "sr_share", "spm", "ref_src", "ref_url",
        "rss", "feature", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
        "at_custom4", "xtor", "s_cid", "cid", "mkt_tok", "trk", "trkcampaign", "share",
        "fb_action_ids", "fb_action_types", "fb_ref", "fb_source", "action_object_map",
        "action_type_map", "action_ref_map", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)  # fmt: skip

# host -> query parameter that carries the real target
_WRAPPERS: dict[str, tuple[str, ...]] = {
    "www.google.com": ("url", "q"),
    "google.com": ("url", "q"),
    "news.google.com": ("url",),
    "l.facebook.com": ("u",),
    "lm.facebook.com": ("u",),
    "m.facebook.com": ("u",),
    "l.instagram.com": ("u",),
    "out.reddit.com": ("url",),
    "away.vk.com": ("to",),
    "www.bing.com": ("url", "u"),
    "r.search.yahoo.com": ("ru",),
    "click.linksynergy.com": ("murl",),
    "safelinks.protection.outlook.com": ("url",),
    "nam02.safelinks.protection.outlook.com": ("url",),
    "nam12.safelinks.protection.outlook.com": ("url",),
    "eur01.safelinks.protection.outlook.com": ("url",),
    "eur02.safelinks.protection.outlook.com": ("url",),
    "urldefense.proofpoint.com": ("u",),
    "t.umblr.com": ("z",),
    "href.li": (),
    "feedproxy.google.com": (),
}
_WRAPPER_PATHS = ("/url", "/l.php", "/link", "/redirect", "/redir", "/out", "/away", "/r", "/")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_UNWRAP = 5


def is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def host_of(url: str) -> str:
    """The URL's host, lowercased; "" when it has none or is malformed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed IP literal: "http://[::1/", "http://[zz]/"
        return ""


def _is_tracking(name: str) -> bool:
    low = name.lower()
    return low in _TRACKING_PARAMS or low.startswith(_TRACKING_PREFIXES)


def unwrap_redirect(url: str) -> str:
    """Follow redirect wrappers encoded in the URL itself (no network). A malformed URL is returned
    as it is."""
    for _ in range(_MAX_UNWRAP):
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        host = (parts.hostname or "").lower()
        target: str | None = None
        if host in _WRAPPERS or host.endswith(".safelinks.protection.outlook.com"):
            keys = _WRAPPERS.get(host, ("url",))
            if not keys and parts.query and is_http_url(unquote(parts.query)):
                target = unquote(parts.query)  # href.li/?https://...
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            for key in keys:
                candidate = params.get(key, "")
                if is_http_url(candidate) and (host not in ("www.google.com", "google.com") or
                                               parts.path in _WRAPPER_PATHS):
                    target = candidate
                    break
            if host == "urldefense.proofpoint.com" and target:
                target = target.replace("-", "%").replace("_", "/")
                target = unquote(target)
        if not target or target == url:
            return url
        url = target
    return url


@functools.lru_cache(maxsize=65536)
def canonicalize_url(url: str) -> str:
    """The canonical spelling of an http(s) URL. Non-http input is returned stripped, unchanged."""
    url = unwrap_redirect(url.strip())
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path) or "/"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def url_hash(value: str) -> str:
    """A short stable hash used for dedup sets (not an article id)."""
    return hashlib.blake2b(value.encode("utf-8"), digest_size=8).hexdigest()
