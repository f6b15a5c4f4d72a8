import pytest

from simulator import SiteError, load_site

SITE = """
name: Test Site
robots: |
  User-agent: *
  Disallow: /private/
feeds:
  - id: world
    title: World
    items:
      - slug: one
        title: One
        published: 2026-11-20T08:00:00Z
        body: |
          First paragraph.

          Second paragraph.
      - slug: two
        title: Two
        file: articles/two.html
behaviours:
  /feeds/world.xml: {status: 503, times: 1}
"""


def test_site_yaml_loads_with_files(tmp_path):
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "two.html").write_text("<html><body><p>Two</p></body></html>")
    (tmp_path / "site.yaml").write_text(SITE)
    site = load_site(tmp_path)
    assert site.name == "Test Site" and "Disallow" in site.robots
    one, two = site.feeds[0].items
    assert one.body.startswith("First") and two.html.startswith("<html>")
    assert site.behaviours == {"/feeds/world.xml": {"status": 503, "times": 1}}


@pytest.mark.parametrize(
    ("text", "words"),
    [("feeds:\n  - id: x\n    items:\n      - slug: a\n        title: A\n", "feeds.0.items.0"),
     ("feeds:\n  - id: x\n    colour: red\n", "feeds.0.colour"),
     ("feeds:\n  - id: x\n    items:\n      - slug: a\n        title: A\n        file: nope.html\n", "'nope.html' not found"),
     ("feeds: [unclosed", "invalid YAML")],
)
def test_site_errors_name_the_entry(tmp_path, text, words):
    (tmp_path / "site.yaml").write_text(text)
    with pytest.raises(SiteError, match=words.replace(".", r"\.").replace("'", "'")):
        load_site(tmp_path)


def test_missing_site_yaml(tmp_path):
    with pytest.raises(SiteError, match="not found"):
        load_site(tmp_path)
