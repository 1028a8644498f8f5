"""The job config file: required keys, defaults, relative paths, errors naming the key."""

from __future__ import annotations

import pytest

from matcher.errors import ConfigError
from matcher.jobs.config import load_config


def test_defaults_and_relative_paths(tmp_path):
    cfg = tmp_path / "nightly.toml"
    cfg.write_text('index = "idx"\n[[sources]]\npath = "drops/*.xml"\n', encoding="utf-8")
    config = load_config(cfg, need_sources=True)
    assert config.index_dir == tmp_path / "idx"
    assert config.path(config.sources[0].path) == tmp_path / "drops/*.xml"
    assert config.gate.self_retrieval == 0.95 and config.alerts.top_k == 10 and config.job.keep_versions == 3


@pytest.mark.parametrize(("text", "needle"), [
    ('[[sources]]\npath = "x"\n', "index"),
    ('index = "i"\n[gate]\nmax_drop = 2\n', "gate.max_drop"),
    ('index = "i"\n[alerts]\ntop_k = "ten"\n', "alerts.top_k"),
    ('index = "i"\nindx = "typo"\n', "indx"),
])
def test_errors_name_the_key(tmp_path, text, needle):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=needle) as exc:
        load_config(cfg)
    assert str(cfg) in str(exc.value)


def test_sources_required_for_the_nightly_run(tmp_path):
    cfg = tmp_path / "n.toml"
    cfg.write_text('index = "i"\n', encoding="utf-8")
    assert load_config(cfg).sources == []
    with pytest.raises(ConfigError, match="sources"):
        load_config(cfg, need_sources=True)
