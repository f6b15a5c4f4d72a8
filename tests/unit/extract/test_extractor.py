from datetime import UTC, datetime

import pytest

from pipeline.extract.extractor import extract_article, extract_html
from pipeline.fetch.fetcher import entry_for_url
from pipeline.outcomes import Outcome, Status
from pipeline.records import FetchedPage
from simulator.hostile import CHALLENGE_PAGE, LISTING_PAGE, PAYWALL_PAGE, filler_paragraphs, listing_links

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
BODY = "".join(f"<p>{p}</p>" for p in filler_paragraphs("unit", paragraphs=5).split("\n\n"))


def page(body=BODY, head="", lang="en"):
    return f"<!DOCTYPE html><html lang='{lang}'><head>{head}</head><body><nav><a href='/'>Home</a></nav><article>{body}</article><footer>(c) Site</footer></body></html>"


FULL_HEAD = """<title>Harbour plan approved | Coast Times</title>
<meta property="og:title" content="Harbour plan approved">
<meta property="og:type" content="article">
<meta property="og:site_name" content="Coast Times">
<meta property="og:image" content="https://coast.example/img/harbour.jpg">
<meta name="description" content="The council approved the harbour expansion.">
<meta name="author" content="Jane Doe">
<meta name="keywords" content="harbour, council">
<meta property="article:published_time" content="2026-11-18T09:30:00+00:00">
<link rel="canonical" href="https://coast.example/news/harbour-plan?utm_source=x">"""


def test_ok_page_with_all_metadata():
    a = extract_html(page(head=FULL_HEAD), now=NOW)
    assert a.outcome.status == Status.OK, a.outcome.reason
    assert a.title == "Harbour plan approved"
    assert a.authors == ["Jane Doe"]
    assert a.published_at == datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
    assert a.site == "Coast Times"
    assert a.description == "The council approved the harbour expansion."
    assert a.image == "https://coast.example/img/harbour.jpg"
    assert a.language == "en"
    assert {"harbour", "council"} <= set(a.tags)
    assert a.canonical_url == "https://coast.example/news/harbour-plan"  # from the page's canonical link
    assert "Home" not in a.text and "(c) Site" not in a.text
    assert len(a.text) > 250 and a.content_hash


def test_feed_entry_fields_fill_the_gaps():
    entry = entry_for_url("https://coast.example/story?utm_medium=rss").model_copy(update={
        "title": "Feed title", "authors": ["Feed Author"], "published_at": datetime(2026, 11, 19, 7, tzinfo=UTC),
        "summary": "Feed summary", "language": "en", "tags": ["local"], "feed_id": "coast"})
    a = extract_html(page(), url=entry.url, entry=entry, now=NOW)
    assert a.outcome.status == Status.OK
    assert (a.title, a.authors, a.description) == ("Feed title", ["Feed Author"], "Feed summary")
    assert a.published_at == datetime(2026, 11, 19, 7, tzinfo=UTC)
    assert a.canonical_url == "https://coast.example/story" and a.article_id == entry.article_id
    assert a.feed_ids == ["coast"] and "local" in a.tags and a.domain == "coast.example"


def test_future_dates_are_rejected():
    head = '<meta property="article:published_time" content="2099-01-01T00:00:00+00:00">'
    a = extract_html(page(head=head), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.OK
    assert a.published_at is None
    entry = entry_for_url("https://coast.example/x").model_copy(
        update={"published_at": datetime(2026, 11, 19, 7, tzinfo=UTC)})
    assert extract_html(page(head=head), entry=entry, now=NOW).published_at == entry.published_at


def test_language_detected_from_text():
    german = "".join("<p>Der Stadtrat hat am Dienstag die Pläne für den Hafen beschlossen, und die Bürger sind nicht "
                     "zufrieden mit der Entscheidung, die auch für den Verkehr von großer Bedeutung ist.</p>" for _ in range(4))
    assert extract_html(page(german, lang="en"), now=NOW).language == "de"


@pytest.mark.parametrize(
    ("html", "status", "words"),
    [(page("<p>Road closed today.</p>"), Status.TOO_SHORT, "chars of main text"),
     (PAYWALL_PAGE.format(teaser="Negotiators left without a deal."), Status.PAYWALLED, "isAccessibleForFree"),
     (LISTING_PAGE.format(links=listing_links("https://coast.example")), Status.NOT_ARTICLE, "links"),
     (CHALLENGE_PAGE, Status.BLOCKED, "challenge"),
     ("", Status.PARSE_ERROR, "empty"),
     ("just some words without any markup at all", Status.PARSE_ERROR, "not HTML"),
     ("<html><body><script>var x = 1;</script></body></html>", Status.NOT_ARTICLE, "no main text")],
)
def test_every_non_ok_outcome_has_a_reason(html, status, words):
    a = extract_html(html, url="https://coast.example/x", now=NOW)
    assert a.outcome.status == status
    assert words in a.outcome.reason


def test_failed_fetch_passes_through_with_entry_fields():
    entry = entry_for_url("https://coast.example/gone").model_copy(update={"title": "Gone story"})
    fetched = FetchedPage(entry=entry, final_url=entry.url, http_status=404,
                          outcome=Outcome.failure(Status.HTTP_ERROR, "HTTP 404", 404))
    a = extract_article(fetched)
    assert a.outcome.status == Status.HTTP_ERROR and a.outcome.reason == "HTTP 404"
    assert a.title == "Gone story" and a.text == "" and a.article_id == entry.article_id


def test_fetched_page_is_extracted_with_http_status():
    entry = entry_for_url("https://coast.example/ok")
    fetched = FetchedPage(entry=entry, final_url=entry.url, http_status=200, body=page(head=FULL_HEAD),
                          outcome=Outcome(status=Status.OK, http_status=200))
    a = extract_article(fetched)
    assert a.outcome.status == Status.OK and a.outcome.http_status == 200
    assert a.canonical_url == "https://coast.example/ok"


def test_tidy_text_drops_headlines_and_trailing_boilerplate_only():
    from pipeline.extract.extractor import tidy_text

    text = "\n".join([
        "Sweden drops Assange rape investigation",
        "Julian Assange: Sweden drops rape investigation",
        "Prosecutors in Sweden said on Tuesday that they had dropped the investigation into Julian Assange.",
        "The decision ends a nine-year saga.",
        "Follow The New York Times Opinion section on Facebook, Twitter and Instagram.",
        "Get the day's top headlines delivered to your inbox by subscribing to our newsletter.",
        "3 comments",
    ])
    assert tidy_text(text, "Sweden drops Assange rape investigation").split("\n") == [
        "Prosecutors in Sweden said on Tuesday that they had dropped the investigation into Julian Assange.",
        "The decision ends a nine-year saga.",
    ]
    lede = "Sweden drops the Assange investigation, prosecutors said on Tuesday, ending a nine-year saga over claims."
    assert tidy_text(lede + "\nMore.", "Sweden drops Assange investigation").startswith(lede)  # a lede is not a headline


# paywalls: markup alone does not make a paywall; a short text that is a teaser does
BRIEF = "".join(f"<p>{p}</p>" for p in filler_paragraphs("brief", paragraphs=3).split("\n\n"))  # ~950 chars, complete
TEASER = ("<p>Negotiators left the room on Monday without an agreement on the budget. The finance minister said "
          "talks would resume next week. Opposition leaders called the delay a failure of leadership.</p>")
GATED_LD = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle", '
            '"headline": "Budget talks", "isAccessibleForFree": false, "hasPart": {"@type": "WebPageElement", '
            '"isAccessibleForFree": false, "cssSelector": ".paywall"}}</script>')


def test_full_article_with_paywall_markup_is_ok():
    # site chrome: a login bar and a metering modal on every page, free ones included (the JPost case)
    chrome = ('<div class="paywall-header-wrap"><a class="paywall-login-link" href="/login">Login</a></div>'
              '<div class="paywall-modal" hidden>Already a subscriber? Log in</div>')
    html = (f"<!DOCTYPE html><html lang='en'><head><title>Harbour plan</title></head><body>{chrome}"
            f"<article>{BRIEF}</article></body></html>")
    a = extract_html(html, url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.OK, a.outcome.reason
    assert 250 < len(a.text) < 1500  # short enough to be a teaser: the markup alone did not decide
    # the whole article inside the element the site calls "paywall"
    a = extract_html(page(f'<div class="paywall">{BODY}</div>'), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.OK, a.outcome.reason


def test_teaser_with_subscribe_prompt_is_paywalled():
    html = page(TEASER + '<div class="gate"><p>Subscribe to continue reading.</p><a href="/plans">See plans</a></div>')
    a = extract_html(html, url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.PAYWALLED
    assert "Subscribe to continue reading" in a.outcome.reason
    assert a.text.startswith("Negotiators left the room")


def test_cut_off_teaser_with_paywall_markup_is_paywalled():
    cut = ("<p>Negotiators left the room on Monday without an agreement on the budget, and the finance "
           "minister, who had promised a deal by the end of the month, told reporters that the talks would "
           "resume next week once the coalition partners had settled their differences over...</p>")
    a = extract_html(page(cut + '<div class="piano-offer"></div>'), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.PAYWALLED
    assert "cut off" in a.outcome.reason
    # the same markup under a complete short text: an article, not a teaser
    assert extract_html(page(BRIEF + '<div class="piano-offer"></div>'), now=NOW).outcome.status == Status.OK


def test_declared_gated_article_whose_text_is_there_is_ok():
    # isAccessibleForFree: false, but the full article is in the page
    a = extract_html(page(f'<div class="paywall">{BODY}</div>', head=GATED_LD), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.OK, a.outcome.reason
    # a short article, served in full inside the part the JSON-LD declares gated
    a = extract_html(page(f'<div class="paywall">{BRIEF}</div>', head=GATED_LD), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.OK, a.outcome.reason
    # the same declaration over a teaser, the gated part missing from the page: paywalled
    a = extract_html(page(TEASER, head=GATED_LD), url="https://coast.example/x", now=NOW)
    assert a.outcome.status == Status.PAYWALLED
    assert "isAccessibleForFree" in a.outcome.reason


@pytest.mark.parametrize(("text", "cut"), [
    ("A full paragraph.\nAll...", True),
    ("The finance minister told reporters that the talks would resume next week once the partners had settled", True),
    ("The finance minister said talks would resume.\nReporting by Jane Doe; editing by Sam Lee", False),
    ("The finance minister said talks would resume next week, once the partners had settled their differences.", False),
    ("“We will be back next week,” the minister said.”", False),
])
def test_looks_cut_off(text, cut):
    from pipeline.extract.paywall import looks_cut_off

    assert looks_cut_off(text) is cut
