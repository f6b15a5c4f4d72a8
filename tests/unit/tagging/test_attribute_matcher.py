"""The indexed attribute matcher finds exactly the matches spaCy's Matcher finds for the model's
attribute ruler, so every POS, morph and lemma is unchanged; patterns it does not handle go to a Matcher."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import spacy
import yaml
from spacy.pipeline import AttributeRuler
from spacy.tokens import Doc

from pipeline.tagging.attribute_matcher import IndexedAttributeMatcher, use_indexed_matching
from pipeline.tagging.nlp import MODEL_NAMES

SITE = Path(__file__).resolve().parents[3] / "seeds" / "demo-site" / "site.yaml"
TRICKY = [
    "I ain't gonna say it, y'all, c'mon. Let's go: he's gotta win and there is nothin' they can do.",
    "There were two of them.  \n\n  Which ones? Those that the minister said had been sold.",
    "It is what it is; that was then, and this is now. The U.S. and the E.U. agreed, she told Reuters.",
]


def _texts() -> list[str]:
    site = yaml.safe_load(SITE.read_text(encoding="utf-8"))
    bodies = [item["body"] for feed in site["feeds"] for item in feed.get("items", []) if item.get("body")]
    assert len(bodies) >= 10
    return [*TRICKY, *bodies]


def _model() -> spacy.Language:
    for name in MODEL_NAMES:
        try:
            return spacy.load(name)  # not load_nlp: a pipeline with the stock matcher
        except OSError:
            continue
    pytest.skip("no English spaCy model installed")


def _annotations(doc: Doc) -> list[tuple[str, str, str, str, str]]:
    return [(t.text, t.tag_, t.pos_, str(t.morph), t.lemma_) for t in doc]


def test_the_model_rulers_matches_and_annotations_are_unchanged_on_news_text():
    stock, indexed = _model(), _model()
    ruler = indexed.get_pipe("attribute_ruler")
    matcher = IndexedAttributeMatcher(ruler)
    assert not matcher.has_rest  # every pattern of the model is looked up, none left to the slow matcher
    before = [n for n in stock.pipe_names if n not in ("attribute_ruler", "lemmatizer", "ner")]
    for text in _texts():
        parsed = stock(text, disable=[n for n in stock.pipe_names if n not in before])  # the ruler's input
        assert matcher(parsed) == sorted(set(ruler.match(parsed))), text[:60]
    use_indexed_matching(ruler)  # as load_nlp does
    texts = _texts()
    for a, b in zip(stock.pipe(texts), indexed.pipe(texts), strict=True):
        assert _annotations(a) == _annotations(b)


def test_an_indexed_ruler_pickles_and_sees_patterns_added_later():
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "dprk"}]], {"TAG": "NNP"})
    use_indexed_matching(ruler)
    assert [t.tag_ for t in nlp("The DPRK said")] == ["", "NNP", ""]
    ruler.add([[{"LOWER": "said"}]], {"TAG": "VBD"})
    assert [t.tag_ for t in nlp("The DPRK said")] == ["", "NNP", "VBD"]
    copy = pickle.loads(pickle.dumps(ruler))
    doc = nlp.make_doc("The DPRK said")
    assert copy.match(doc) == ruler.match(doc) and len(copy.match(doc)) == 2


def _doc(vocab, words: list[str], tags: list[str], deps: list[str]) -> Doc:
    return Doc(vocab, words=words, tags=tags, deps=deps, heads=[0] * len(words), spaces=[True] * len(words))


def test_every_kind_of_pattern_matches_as_spacys_matcher_does():
    nlp = spacy.blank("en")
    ruler = AttributeRuler(nlp.vocab)
    ruler.add([[{"TAG": "NN"}]], {"POS": "NOUN"})
    ruler.add([[{"TAG": {"IN": ["VBZ", "VBP"]}, "LOWER": "is"}]], {"LEMMA": "be"})
    ruler.add([[{"LOWER": {"REGEX": "^gon$"}}, {"LOWER": "na"}]], {"LEMMA": "go"})
    ruler.add([[{"LOWER": "gon"}, {"LOWER": "na"}]], {"LEMMA": "to"}, index=1)
    ruler.add([[{"TAG": {"NOT_IN": ["TO", ""]}, "DEP": {"IN": ["aux", "auxpass"]}}]], {"POS": "AUX"})
    ruler.add([[{"DEP": "expl"}, {"LOWER": {"IN": ["is", "was"]}}]], {"POS": "VERB"}, index=1)
    ruler.add([[{"IS_SPACE": True, "DEP": {"NOT_IN": [""]}}]], {"DEP": "dep"})
    ruler.add([[{"LOWER": "very", "OP": "+"}, {"TAG": "JJ"}]], {"POS": "ADJ"}, index=-1)  # not handled: a Matcher
    ruler.add([[{"TAG": "NN"}], [{"LOWER": "it"}]], {"POS": "X"})  # two patterns, one rule
    matcher = IndexedAttributeMatcher(ruler)
    assert matcher.has_rest
    docs = [
        _doc(nlp.vocab, ["there", "is", "a", "cat", "gon", "na"], ["EX", "VBZ", "DT", "NN", "VBG", "TO"],
             ["expl", "ROOT", "det", "attr", "aux", "aux"]),
        _doc(nlp.vocab, ["it", "was", "very", "very", "big", "\n"], ["PRP", "VBD", "RB", "RB", "JJ", "_SP"],
             ["expl", "ROOT", "advmod", "advmod", "acomp", "dep"]),
        _doc(nlp.vocab, ["is", "gon"], ["VBZ", "VBG"], ["ROOT", "aux"]),  # a pattern cut off by the end
    ]
    for doc in docs:
        expected = sorted(set(ruler.match(doc)))
        assert matcher(doc) == expected
        assert expected  # the documents exercise the patterns
