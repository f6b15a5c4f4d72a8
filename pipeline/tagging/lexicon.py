"""Word lists the rules share: reporting verbs and nouns, roles, pronouns, locative prepositions."""

from __future__ import annotations

REPORTING_VERBS = frozenset(
    """say tell state add note explain emphasize emphasise stress warn claim argue insist announce
    declare report confirm deny reveal acknowledge admit suggest write tweet post comment remark
    assert maintain mention predict estimate promise pledge vow urge accuse allege inform repeat
    reiterate recall observe conclude concede caution complain contend indicate testify reply
    respond answer ask disclose affirm underline underscore point describe believe think expect
    fear hope agree disagree charge boast brief quote cite speculate forecast threaten assure
    recount recommend propose recognize recognise joke establish find determine remember suspect""".split()
)
# verbs that take a claim only with a complement clause (otherwise too generic)
COMPLEMENT_ONLY = frozenset(
    "believe think expect fear hope agree point describe ask recommend propose recognize recognise joke establish find "
    "determine remember suspect".split()
)
REPORTING_NOUNS = frozenset(
    """statement claim announcement assertion warning report remark remarks comment message post tweet
    letter memo testimony allegation accusation insistence promise pledge assurance admission denial
    declaration briefing interview communique communiqué release press speech address""".split()
)
PASSIVE_ANAPHORS = frozenset("this that these those it".split())
ROLE_HEADS = frozenset(
    """president minister secretary general chancellor premier spokesman spokeswoman spokesperson
    director chief chairman chairwoman chair ceo governor senator ambassador commander mayor king
    queen prince princess pope leader head representative envoy official adviser advisor professor
    judge attorney economist analyst founder executive officer editor coach manager admiral colonel
    lieutenant sergeant captain commissioner prosecutor deputy lawmaker congressman congresswoman
    speaker sheriff superintendent chairperson treasurer dean inspector marshal emir sultan
    president-elect researcher scientist expert author boss ombudsman auditor comptroller regulator
    counsel solicitor magistrate bishop archbishop cardinal rabbi imam pastor reverend rev councillor
    councilor councilman councilwoman alderman assemblyman assemblywoman legislator""".split()
)
ROLE_MODIFIERS = frozenset(
    """prime foreign defence defense interior finance deputy vice acting former first state general
    chief executive senior assistant associate press national security health justice trade
    economy economic foreign-affairs attorney supreme high principal managing lead top""".split()
)
HONORIFICS = frozenset(
    """mr mr. mrs mrs. ms ms. dr dr. prof prof. sir dame sen. rep. gov. gen. lt. col. capt. cmdr cmdr. maj. sgt.
    adm. brig. gen lt col capt maj sgt adm cpl cpl. pvt pvt. det. insp. supt. amb. hon. rev. fr.""".split()
)
PERSON_PRONOUNS = frozenset("he she him her his hers himself herself".split())
GROUP_PRONOUNS = frozenset("they them their it its we us".split())
LOCATIVE_PREPS = frozenset(
    "in at near inside outside into across around throughout within via toward towards through".split()
)
ORG_WORDS = frozenset(
    """news agency ministry inc corp corporation group times post journal party council committee
    office department bank company university institute association union network tv radio press
    service services agency's foundation fund organization organisation commission court police
    army navy force forces club league federation airlines airways media herald tribune gazette
    daily weekly review telegraph guardian observer reuters productions studios records entertainment
    labs holdings partners motors systems technologies airlines chronicle academy shipping energy power
    logistics industries pharmaceuticals insurance ventures capital telecom communications mining steel
    electric utilities railways railway""".split()
)
ENTITY_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "LAW", "FAC", "PRODUCT"})
JUNK_NAMES = frozenset(
    """he she it they we you i him her them us me this that these those who whom which what there
    here mr mrs ms dr today yesterday tomorrow cmdr sgt capt maj adm lt col gen""".split()
)
COMMON_ACRONYMS = frozenset(
    """IPO CEO CFO COO CTO GDP AI TV PM AM ID DNA HIV AIDS SUV SUVS LGBT LGBTQ FAQ PDF URL USD EUR GBP
    VAT ATM PC OK CEOS MP MPS ER ICU PPE RSS API""".split()
)
