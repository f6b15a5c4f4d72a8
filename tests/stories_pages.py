"""Pages for the story tests: one wire article re-published by three outlets (each with its own
template and its own edits), a different article from the first outlet's site (same navigation and
footer), and a second reporter's account of the same event. Written for these tests."""

from __future__ import annotations

from html import escape

WIRE_TITLE = "Port strike halts grain exports as talks collapse"
WIRE = [
    "Dock workers at the country's three largest ports walked off the job on Tuesday after overnight "
    "talks with terminal operators broke down, halting grain shipments at the height of the export season.",
    "The union representing about 14,000 workers said the operators had refused to guarantee staffing "
    "levels on automated cranes, a demand it has pressed since contracts expired in March.",
    "\"We gave them every chance to put a serious offer on the table,\" union president Marta Kowalczyk "
    "told reporters outside the labour ministry. \"They chose to gamble with the harvest instead.\"",
    "The terminal operators' association said in a statement that it had offered a four percent wage "
    "increase over two years and a joint review of automation, and accused the union of walking away "
    "from a deal that was within reach.",
    "Traders said at least 40 bulk carriers were waiting at anchor by Tuesday evening, and freight brokers "
    "warned that a stoppage lasting more than a week would push buyers in North Africa and the Middle "
    "East toward rival suppliers.",
    "The agriculture ministry estimates that grain worth roughly 300 million euros leaves the ports in a "
    "typical week in October. Farm groups urged the government to appoint a mediator before silos at "
    "inland collection points fill up.",
    "Labour minister Tomas Brandt said he would meet both sides on Wednesday morning and did not rule out "
    "emergency legislation if the dispute threatened food security commitments to importing countries.",
    "The last national port strike, in 2019, lasted eleven days and cost exporters an estimated "
    "1.2 billion euros in delayed and cancelled contracts, according to the chamber of commerce.",
]

OTHER_ARTICLE_TITLE = "City council approves new tram line after decade of debate"
OTHER_ARTICLE = [
    "The city council voted 31 to 12 on Monday night to build a tram line linking the central station "
    "with the eastern suburbs, ending more than ten years of argument over the route and its cost.",
    "The line will run for 9.4 kilometres with fourteen stops, and the transport department expects "
    "construction to begin in the spring of next year once the final engineering studies are approved.",
    "Supporters said the tram would cut travel times for about 60,000 daily commuters who now rely on "
    "crowded buses, while opponents warned that the budget of 410 million euros left no room for overruns.",
    "\"This is the most important transport decision the city has made in a generation,\" deputy mayor "
    "Ines Duarte said after the vote. Several councillors asked for quarterly reports on spending.",
    "Shop owners along the planned route have asked for compensation during the two years of works, and "
    "the council agreed to set up a fund to help businesses that lose trade while streets are closed.",
    "The regional government has promised to pay a third of the cost, with the rest coming from city "
    "bonds and a grant from the national infrastructure fund that still has to be confirmed.",
]

SAME_EVENT_TITLE = "Grain piles up as dockers strike over automation"
SAME_EVENT = [
    "Ships queued off the coast on Tuesday as a nationwide dock strike entered its first day, leaving "
    "exporters scrambling to find other ways to move this year's bumper harvest.",
    "At the northern terminal, cranes stood idle and trucks loaded with wheat were turned away at the "
    "gates. Drivers said they had been told to wait at a service area until further notice.",
    "The dispute centres on how many workers must be assigned to remotely operated cranes. Union leader "
    "Marta Kowalczyk accused employers of planning to cut hundreds of jobs under the cover of modernisation.",
    "Employers insist automation will create better paid technical positions and say their latest offer "
    "included a pay rise and a review panel. Neither side expected a quick resolution.",
    "Economists said the timing could hardly be worse, with prices on international markets already "
    "volatile and several importing governments holding tenders for autumn deliveries.",
    "A farmer near the port city said his cooperative had only a few days of storage left. \"If the "
    "trucks cannot unload, we will have to leave grain in the fields,\" he said.",
]

OUTLETS = {
    "harbour-times.example": ("Harbour Times", ["Home", "World", "Business", "Markets", "Opinion"],
                              "Harbour Times Media Group. All rights reserved. Contact the newsroom."),
    "daily-ledger.example": ("The Daily Ledger", ["News", "Economy", "Sport", "Culture", "Weather"],
                             "The Daily Ledger is published by Ledger Press Ltd. Privacy policy. Terms of use."),
    "morning-post.example": ("Morning Post", ["Top stories", "Local", "National", "Agriculture", "Video"],
                             "Copyright Morning Post. Subscribe to our newsletter for the morning briefing."),
}


def page(outlet: str, title: str, paragraphs: list[str], byline: str = "By Staff Reporter") -> str:
    """An article page in the outlet's own template: navigation, byline, body, related links, footer."""
    name, sections, footer = OUTLETS[outlet]
    nav = "".join(f'<li><a href="/{s.lower()}">{escape(s)}</a></li>' for s in sections)
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    related = "".join(f'<li><a href="/r{i}">More from {escape(name)}: story {i}</a></li>' for i in range(1, 5))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)} | {escape(name)}"
            f'</title><meta property="og:site_name" content="{escape(name)}"></head><body>'
            f"<header><div class=logo>{escape(name)}</div><nav><ul>{nav}</ul></nav></header>"
            f"<main><article><h1>{escape(title)}</h1><p class=byline>{escape(byline)}</p>{body}</article>"
            f"<aside><h2>Related</h2><ul>{related}</ul></aside></main>"
            f"<footer><p>{escape(footer)}</p></footer></body></html>")


def syndicated_copies() -> dict[str, tuple[str, str]]:
    """url -> (html, outlet): the wire article as three outlets ran it."""
    edited = list(WIRE)
    edited[4] = edited[4].replace("at least 40 bulk carriers", "more than 40 bulk carriers").replace(
        "Tuesday evening", "late Tuesday")
    dateline = ["WARSAW (Wire) — " + WIRE[0], *WIRE[1:]]
    return {
        "https://harbour-times.example/business/port-strike": (
            page("harbour-times.example", WIRE_TITLE, WIRE, "By Wire Staff"), "harbour-times.example"),
        "https://daily-ledger.example/economy/2026/11/dockers-walk-out": (
            page("daily-ledger.example", "Dockers walk out, stranding grain ships", WIRE[:-1],
                 "Wire Service"), "daily-ledger.example"),
        "https://morning-post.example/national/ports-strike-grain": (
            page("morning-post.example", "Ports shut by strike", [*dateline[:4], *edited[4:]], "Wire report"),
            "morning-post.example"),
    }


def same_site_other() -> tuple[str, str]:
    """A different article on the first outlet's site (same navigation, related links and footer)."""
    return ("https://harbour-times.example/local/tram-line",
            page("harbour-times.example", OTHER_ARTICLE_TITLE, OTHER_ARTICLE, "By City Desk"))


def same_event_other_reporter() -> tuple[str, str]:
    return ("https://morning-post.example/agriculture/grain-piles-up",
            page("morning-post.example", SAME_EVENT_TITLE, SAME_EVENT, "By Farm Correspondent"))
