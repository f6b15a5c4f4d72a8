import io
import json

from pipeline.cli import main


def test_tag_file_prints_one_tagresult(tmp_path, capsys, tagger):
    path = tmp_path / "a.txt"
    text = "Mayor Lena Park said that the tram line will open in 2027."
    path.write_text(text, encoding="utf-8")
    assert main(["tag", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert set(data) == {"tagger", "entities", "claims"}
    assert data["tagger"]["name"] == "newswatch" and data["tagger"]["version"]
    claim = data["claims"][0]
    assert set(claim) >= {"id", "text", "start", "end", "kind", "speaker", "cue", "source_chain", "types",
                          "certainty", "checkworthiness", "about"}
    assert text[claim["start"]:claim["end"]] == claim["text"]
    assert claim["speaker"]["entity_id"] == "person:lena-park"
    entity = data["entities"][0]
    assert set(entity) == {"id", "name", "type", "aliases", "mentions"}


def test_tag_stdin(monkeypatch, capsys, tagger):
    monkeypatch.setattr("sys.stdin", io.StringIO("The DPRK said that it will test a rocket."))
    assert main(["tag", "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any(e["id"] == "gpe:north-korea" for e in data["entities"])


def test_tag_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["tag", "--json", str(tmp_path / "nope.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
