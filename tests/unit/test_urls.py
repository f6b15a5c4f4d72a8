import pytest

from pipeline.urls import canonicalize_url, host_of, is_http_url, unwrap_redirect


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTPS://WWW.Example.COM:443/News/Story?b=2&a=1#comments", "https://www.example.com/News/Story?a=1&b=2"),
        ("http://example.com:80//a//b", "http://example.com/a/b"),
        ("http://example.com:8080/x", "http://example.com:8080/x"),
        ("https://example.com/s?utm_source=rss&utm_medium=feed&id=7&fbclid=abc&gclid=x", "https://example.com/s?id=7"),
        ("https://example.com/s?mc_cid=1&mc_eid=2&_ga=3&ocid=4", "https://example.com/s"),
        ("https://user:pw@example.com/s", "https://example.com/s"),
        ("  https://example.com  ", "https://example.com/"),
    ],
)
def test_canonicalize(raw, canonical):
    assert canonicalize_url(raw) == canonical


@pytest.mark.parametrize(
    "wrapped",
    [
        "https://www.google.com/url?q=https%3A%2F%2Fnews.example.org%2Fstory%3Futm_source%3Dx&sa=D",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fnews.example.org%2Fstory&h=AT0",
        "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Fnews.example.org%2Fstory&data=x",
        "https://out.reddit.com/t3_x?url=https%3A%2F%2Fnews.example.org%2Fstory&token=y",
    ],
)
def test_unwraps_redirect_wrappers(wrapped):
    assert canonicalize_url(wrapped) == "https://news.example.org/story"


def test_google_search_is_not_a_wrapper():
    url = "https://www.google.com/search?q=https://example.com"
    assert unwrap_redirect(url) == url


def test_non_http_urls_are_left_alone():
    assert canonicalize_url("mailto:desk@example.com") == "mailto:desk@example.com"
    assert not is_http_url("javascript:alert(1)")
    assert not is_http_url("http://")
    assert is_http_url("https://example.com/a")


def test_same_article_same_canonical_form():
    a = canonicalize_url("https://Example.com/story?utm_campaign=x#top")
    b = canonicalize_url("https://example.com/story")
    assert a == b


@pytest.mark.parametrize("url", ["http://[::1/", "http://[zz]/a", "https://news.example]/a", " http://[::1 "])
def test_malformed_ip_literals_are_left_as_they_are_not_raised(url):
    assert not is_http_url(url)
    assert host_of(url) == ""
    assert unwrap_redirect(url) == url
    assert canonicalize_url(url) == url.strip()
