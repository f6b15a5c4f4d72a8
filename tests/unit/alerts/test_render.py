"""Message rendering: what each match shows, highlights per format, "and N more", determinism."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.alerts.model import HL_POST, HL_PRE, AlertItem, Target, Watch, WatchSearch
from pipeline.alerts.render import _clip, matched_words, render

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _watch(**kw) -> Watch:
    return Watch.new("nk-low", WatchSearch(text="North Korea", speakers=["Stoltenberg"], certainty="low", claims=True),
                     Target.parse("webhook:ops"), now=T0, **kw)


def _item(n: int, **kw) -> AlertItem:
    base = dict(doc_kind="claim", doc_id=f"a{n}:c", article_id=f"a{n}", title=f"Story {n} <b>&", site="daily.example",
                url=f"https://daily.example/{n}?a=1&b=2", published_at=T0 - timedelta(hours=n),
                speaker="Jens Stoltenberg", certainty="low", claim_kind="direct_quote",
                text="North Korea may have fired shells", highlighted=f"{HL_PRE}North{HL_POST} {HL_PRE}Korea{HL_POST} "
                                                                     "may have fired shells")
    base.update(kw)
    return AlertItem(**base)


def test_each_match_shows_title_outlet_speaker_certainty_highlighted_claim_and_link():
    msg = render(_watch(), [_item(1)], "key1", max_items=10)
    assert msg.subject == "newswatch: 1 new match for nk-low"
    assert "*<https://daily.example/1?a=1&amp;b=2|Story 1 &lt;b&gt;&amp;>* — daily.example, 2026-03-01" in msg.text
    assert "Jens Stoltenberg (low certainty): “*North* *Korea* may have fired shells”" in msg.text
    assert "1. Story 1 <b>& — daily.example, 2026-03-01" in msg.plain
    assert '"[North] [Korea] may have fired shells"' in msg.plain and "https://daily.example/1?a=1&b=2" in msg.plain
    assert "<mark>North</mark> <mark>Korea</mark>" in msg.html and "Story 1 &lt;b&gt;&amp;" in msg.html
    item = msg.payload["items"][0]
    assert item["matched"] == ["North", "Korea"] and item["claim"] == "North Korea may have fired shells"
    assert msg.payload["idempotency_key"] == msg.payload["delivery_id"] == "key1"
    assert msg.payload["text"] == msg.text


def test_at_most_max_items_then_and_n_more_newest_first():
    items = [_item(n) for n in range(1, 8)]
    msg = render(_watch(), items, "k", max_items=3)
    assert (msg.total, msg.shown, msg.more) == (7, 3, 4)
    assert [i["id"] for i in msg.payload["items"]] == ["a1:c", "a2:c", "a3:c"]  # newest published first
    assert "and 4 more (newswatch watch show nk-low)" in msg.plain
    assert "_…and 4 more" in msg.text and msg.payload["more"] == 4


def test_same_matches_render_the_same_message_in_any_order():
    items = [_item(n) for n in range(5)] + [_item(9, published_at=None)]
    a = render(_watch(), items, "k", max_items=4)
    b = render(_watch(), list(reversed(items)), "k", max_items=4)
    assert (a.text, a.plain, a.html, a.payload) == (b.text, b.plain, b.html, b.payload)


def test_article_matches_without_a_claim_show_the_passage():
    item = _item(1, doc_kind="article", doc_id="a1", speaker=None, certainty=None, claim_kind=None)
    msg = render(_watch(), [item], "k", max_items=5)
    assert "   \"[North] [Korea] may have fired shells\"" in msg.plain
    assert "certainty" not in msg.plain.split("\n", 2)[2]


def test_long_claims_are_clipped_around_the_first_highlight_with_markers_paired():
    text = "word " * 200 + f"{HL_PRE}Korea{HL_POST} " + "tail " * 100
    clipped = _clip(text, limit=100)
    assert HL_PRE in clipped and clipped.count(HL_PRE) == clipped.count(HL_POST)
    assert clipped.startswith("…") and clipped.endswith("…")
    assert len(clipped.replace(HL_PRE, "").replace(HL_POST, "")) <= 103
    assert matched_words(_item(1, highlighted=clipped)) == ["Korea"]
