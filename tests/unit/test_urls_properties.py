"""Hypothesis: the URL canonicaliser, whose output names the article (its hash is the article id).

- idempotent: a canonical URL is its own canonical form;
- spelling that does not change the article (host case, default port, fragment, tracking
  parameters, parameter order, doubled slashes) does not change the id;
- what does name another article gives another id: a different host, path, port or value of a
  meaningful query parameter, or a parameter more or less."""

from __future__ import annotations

from urllib.parse import urlencode

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pipeline.records import article_id_for
from pipeline.urls import canonicalize_url

PROPERTY = settings(database=None, deadline=None, max_examples=300)

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
HOSTS = st.lists(LABEL, min_size=1, max_size=3).map(lambda labels: ".".join([*labels, "test"]))  # never a wrapper
SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019-_.~%20é"), min_size=1, max_size=8).filter(
    lambda s: s not in (".", ".."))
PATHS = st.lists(SEGMENT, max_size=4).map(lambda segments: "/" + "/".join(segments))
# parameter names outside every tracking name and prefix (utm_, fbclid, ref_src, ...): they start with "k"
NAMES = st.from_regex(r"k[a-z0-9_]{0,6}", fullmatch=True)
VALUES = st.text(max_size=8)
QUERIES = st.dictionaries(NAMES, VALUES, max_size=4)
TRACKING = st.dictionaries(st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid", "mc_cid", "_ga", "ocid"]),
                           st.text(alphabet="abc123", max_size=6), max_size=3)
SCHEMES = st.sampled_from(["http", "https"])
PORTS = st.one_of(st.none(), st.integers(1, 65535))


def url(scheme: str, host: str, port: int | None, path: str, query: dict[str, str], fragment: str = "") -> str:
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}" + (f"?{urlencode(query)}" if query else "") + (f"#{fragment}" if fragment else "")


def article(u: str) -> str:
    return article_id_for(canonicalize_url(u))


@PROPERTY
@given(SCHEMES, HOSTS, PORTS, PATHS, QUERIES, TRACKING, st.text(max_size=5))
def test_canonical_form_is_idempotent(scheme, host, port, path, query, tracking, fragment):
    once = canonicalize_url(url(scheme, host, port, path, {**query, **tracking}, fragment))
    assert canonicalize_url(once) == once
    assert "#" not in once and not any(t in once for t in tracking)


@PROPERTY
@given(SCHEMES, HOSTS, PATHS, QUERIES, TRACKING, st.text(max_size=5), st.randoms(use_true_random=False))
def test_spellings_of_one_article_share_its_id(scheme, host, path, query, tracking, fragment, rnd):
    plain = url(scheme, host, None, path, query)
    default_port = {"http": 80, "https": 443}[scheme]
    shuffled = list({**query, **tracking}.items())
    rnd.shuffle(shuffled)
    variant = (f"{scheme.upper()}://{host.upper()}:{default_port}{path.replace('/', '//')}"
               + (f"?{urlencode(shuffled)}" if shuffled else "") + (f"#{fragment}" if fragment else ""))
    assert article(variant) == article(plain)


@PROPERTY
@given(SCHEMES, HOSTS, HOSTS, PATHS, QUERIES)
def test_different_hosts_are_different_articles(scheme, host, other, path, query):
    assume(host != other)
    assert article(url(scheme, host, None, path, query)) != article(url(scheme, other, None, path, query))


@PROPERTY
@given(SCHEMES, HOSTS, PATHS, PATHS, QUERIES)
def test_different_paths_are_different_articles(scheme, host, path, other, query):
    assume(path != other)
    assert article(url(scheme, host, None, path, query)) != article(url(scheme, host, None, other, query))


@PROPERTY
@given(SCHEMES, HOSTS, PATHS, QUERIES, NAMES, VALUES, VALUES)
def test_a_different_meaningful_parameter_value_is_a_different_article(scheme, host, path, query, name, value, other):
    assume(value != other)
    first = url(scheme, host, None, path, {**query, name: value})
    second = url(scheme, host, None, path, {**query, name: other})
    assert article(first) != article(second)


@PROPERTY
@given(SCHEMES, HOSTS, PATHS, QUERIES, NAMES, VALUES)
def test_a_meaningful_parameter_more_is_a_different_article(scheme, host, path, query, name, value):
    assume(name not in query)
    assert article(url(scheme, host, None, path, query)) != article(url(scheme, host, None, path, {**query, name: value}))


@PROPERTY
@given(SCHEMES, HOSTS, PATHS, st.integers(1, 65535), st.integers(1, 65535))
def test_different_ports_are_different_articles(scheme, host, path, port, other):
    default = {"http": 80, "https": 443}[scheme]
    assume(port != other and default not in (port, other))
    assert article(url(scheme, host, port, path, {})) != article(url(scheme, host, other, path, {}))
