"""TOML experiment configs: validation errors name the key and the allowed range; the
model registry lists only importable models; resolution makes everything explicit."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from engramlab.errors import ConfigError
from engramlab.experiments import config as C
from engramlab.experiments.config import (
    KNOWN_MODELS,
    ModelSpec,
    available_models,
    config_to_toml,
    get_model,
    load_config,
    parse_config,
    register_model,
    resolve,
)
from engramlab.memory.sweeps import MemoryCapacityParams

BASE = """
name = "t"
model = "memory.capacity"
[params]
learning_rate = 0.5
[grid]
n_patterns = [2, 4, 8]
n_units = { start = 16, stop = 64, num = 3 }
[seeds]
base = 5
count = 2
[sweep]
chunk_size = 4
"""


def _write(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _err(tmp_path, text) -> str:
    with pytest.raises(ConfigError) as exc:
        load_config(_write(tmp_path, text), out_dir=tmp_path / "out")
    return str(exc.value)


def test_resolves_grid_seeds_defaults(tmp_path):
    res = load_config(_write(tmp_path, BASE), out_dir=tmp_path / "out")
    assert res.axes == {"n_patterns": [2, 4, 8], "n_units": [16, 40, 64], "seed": [5, 6]}
    assert res.fixed == {"learning_rate": 0.5}
    assert res.shape == (3, 3, 2) and res.size == 18
    assert res.outputs == list(get_model("memory.capacity").outputs)
    assert res.out_dir == tmp_path / "out"


def test_log_range_and_integer_rounding(tmp_path):
    text = BASE.replace("n_units = { start = 16, stop = 64, num = 3 }",
                        'n_units = { start = 16, stop = 1024, num = 7, scale = "log" }')
    res = load_config(_write(tmp_path, text), out_dir=tmp_path / "o")
    np.testing.assert_array_equal(res.axes["n_units"], np.geomspace(16, 1024, 7).round())
    text = BASE.replace("n_units = { start = 16, stop = 64, num = 3 }",
                        "n_units = { start = 16, stop = 17, num = 3 }")
    assert "distinct" in _err(tmp_path, text)


def test_resolved_config_round_trips(tmp_path):
    res = load_config(_write(tmp_path, BASE), out_dir=tmp_path / "out")
    text = config_to_toml(res)
    again = resolve(parse_config(tomllib.loads(text)), out_dir=tmp_path / "out")
    assert again.axes == res.axes and again.fixed == res.fixed
    assert again.to_dict() == res.to_dict()


def test_unknown_keys_name_the_key_and_allowed_keys(tmp_path):
    msg = _err(tmp_path, "colour = 3\n" + BASE)
    assert "colour: unknown key" in msg and "allowed keys:" in msg and "seeds" in msg
    msg = _err(tmp_path, BASE.replace("count = 2", "count = 2\nbogus = 1"))
    assert "seeds.bogus: unknown key" in msg and "base, count" in msg


def test_out_of_range_values_name_key_and_range(tmp_path):
    msg = _err(tmp_path, BASE.replace("learning_rate = 0.5", "learning_rate = -1.0"))
    assert "params.learning_rate" in msg and "(0, 1000]" in msg and "-1" in msg
    msg = _err(tmp_path, BASE.replace("n_patterns = [2, 4, 8]", "n_patterns = [2, 4, 5000]"))
    assert "grid.n_patterns[2]" in msg and "[1, 1024]" in msg and "5000" in msg
    msg = _err(tmp_path, BASE.replace("n_patterns = [2, 4, 8]", "n_patterns = [2, 4.5]"))
    assert "grid.n_patterns[1]" in msg and "integer" in msg
    msg = _err(tmp_path, BASE.replace("count = 2", "count = 0"))
    assert "seeds.count" in msg and "greater than or equal to 1" in msg
    msg = _err(tmp_path, BASE.replace("chunk_size = 4", "chunk_size = -3"))
    assert "sweep.chunk_size" in msg


def test_unknown_parameter_model_output_and_conflicts(tmp_path):
    msg = _err(tmp_path, BASE.replace("learning_rate = 0.5", "learnig_rate = 0.5"))
    assert "params.learnig_rate" in msg and "learning_rate" in msg and "n_units" in msg
    msg = _err(tmp_path, BASE.replace('model = "memory.capacity"', 'model = "nope"'))
    assert "unknown model 'nope'" in msg and "memory.capacity" in msg
    msg = _err(tmp_path, BASE + '[outputs]\nvariables = ["bit_eror"]\n')
    assert "outputs.variables" in msg and "bit_error" in msg
    msg = _err(tmp_path, BASE.replace("learning_rate = 0.5", "n_units = 32"))
    assert "both" in msg
    msg = _err(tmp_path, BASE + "[dataset]\npath = 'x.h5'\n")
    assert "dataset" in msg
    msg = _err(tmp_path, BASE.replace("[grid]", "[grid]\nseed = [1, 2]"))
    assert "grid.seed" in msg


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(_write(tmp_path, "name = = 3"))
    assert "model: required key is missing" in _err(tmp_path, 'name = "x"\n')


def _toy_evaluate(params, seeds):
    return {"y": params["n_units"] * 10.0 + seeds}


def test_registry_lists_only_importable_models(monkeypatch):
    monkeypatch.setattr(C, "KNOWN_MODELS", dict(KNOWN_MODELS))
    assert "memory.capacity" in available_models()
    register_model("ghost.model", "engramlab_no_such_package.sweeps:MODEL")
    assert "ghost.model" not in available_models()
    with pytest.raises(ConfigError, match="unknown model 'ghost.model'"):
        get_model("ghost.model")
    # an existing module whose attribute is not a ModelSpec
    register_model("bad.model", "engramlab.experiments.config:SEED_DIM")
    with pytest.raises(ConfigError, match="not a ModelSpec"):
        get_model("bad.model")
    spec = ModelSpec(name="toy", params=MemoryCapacityParams, evaluate=_toy_evaluate,
                     outputs={"y": "toy output"})
    register_model("toy", spec)
    assert "toy" in available_models() and get_model("toy") is spec
    with pytest.raises(ConfigError, match="already registered"):
        register_model("toy", "a.b:C")
    with pytest.raises(ConfigError, match="package.module:ATTR"):
        register_model("x", "no_colon")
