from pipeline.config import ENV_VARS, load_settings


def test_env_overrides_defaults():
    s = load_settings({"NEWSWATCH_ES_URL": "http://es:9200", "NEWSWATCH_MAX_BYTES": "10",
                       "NEWSWATCH_ALLOW_PRIVATE_ADDRESSES": "true", "NEWSWATCH_PER_HOST_DELAY": "0.5"})
    assert s.es_url == "http://es:9200"
    assert s.max_bytes == 10
    assert s.allow_private_addresses is True
    assert s.per_host_delay == 0.5


def test_every_setting_has_a_namespaced_env_var():
    assert all(v.startswith("NEWSWATCH_") for v in ENV_VARS.values())
    assert ENV_VARS["es_url"] == "NEWSWATCH_ES_URL"
