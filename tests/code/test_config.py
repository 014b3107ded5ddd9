"""Config loading: validation messages name the file and key; --set overrides reach nested keys."""

from pathlib import Path

import pytest

from nlpops.config import ConfigError, apply_overrides, load_config, parse_overrides
from nlpops.models.registry import MODEL_KINDS

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
name: exp
registered_model: exp
data: {path: data.csv, format: csv}
models:
  lr: {kind: tfidf_lr, C: 2.0}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "name",
    ["sentiment140", "airline", "demo", "dissidentia", "sentiment140_deep", "sentiment140_transformer"],
)
def test_shipped_configs_validate(name: str) -> None:
    cfg = load_config(ROOT / "configs" / f"{name}.yaml")
    assert cfg.models and cfg.registered_model


def test_model_params_come_from_extra_keys(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.models["lr"].kind == "tfidf_lr"
    assert cfg.models["lr"].params == {"C": 2.0}


def test_set_overrides_nested_and_parses_yaml_values(tmp_path: Path) -> None:
    cfg = load_config(
        write(tmp_path, GOOD), ["models.lr.C=0.5", "split.seed=7", "preprocessing.compare=[stem, lemma]"]
    )
    assert cfg.models["lr"].params["C"] == 0.5
    assert cfg.split.seed == 7
    assert cfg.preprocessing.compare == ["stem", "lemma"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace("format: csv", "fromat: csv"), "data.fromat: Extra inputs are not permitted"),
        (GOOD.replace("kind: tfidf_lr", "kind: tfidf_lrr"), "models.lr.kind"),
        (GOOD + "metric: speed\n", "metric"),
        (GOOD.replace("name: exp\n", ""), "name: Field required"),
        (GOOD + "split: {seed: abc}\n", "split.seed"),
        ("- just\n- a list\n", "expected a mapping"),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_configs_name_file_and_key(tmp_path: Path, text: str, needle: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("{kind: fasttext, lr: 0.1}", "['lr'] (did you mean 'learning_rate' for 'lr'?)"),
        (
            "{kind: bilstm, seed: 1, max_epoch: 3}",
            "did you mean 'max_epochs' for 'max_epoch', 'random_state' for 'seed'",
        ),
        ("{kind: tfidf_lr, bogus: 1}", "['bogus']; valid: ['C', "),
        (
            "{kind: soft_vote, members: [{kind: tfidf_lr}, {kind: fasttext, epoch: 3}]}",
            "members[1]: model kind 'fasttext'",
        ),
        ("{kind: soft_vote, members: [{kind: tfidf_lrr}]}", "members[0]: unknown model kind 'tfidf_lrr'"),
    ],
)
def test_unknown_model_parameters_fail_when_the_config_is_read(
    tmp_path: Path, model: str, needle: str
) -> None:
    path = write(tmp_path, GOOD.replace("{kind: tfidf_lr, C: 2.0}", model))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}: models.lr: " in str(err.value) and needle in str(err.value)


def test_set_of_a_parameter_the_kind_lacks_fails_when_the_config_is_read(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.lr: .*\['random_state'\]"):
        load_config(write(tmp_path, GOOD), ["models.lr.random_state=3"])


def test_a_kind_whose_library_is_missing_is_left_to_fail_when_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(MODEL_KINDS, "ghost", "nlpops.no_such_module:Ghost")
    cfg = load_config(write(tmp_path, GOOD.replace("{kind: tfidf_lr, C: 2.0}", "{kind: ghost, depth: 3}")))
    assert cfg.models["lr"].params == {"depth": 3}


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("pair", ["novalue", "=3"])
def test_malformed_override(pair: str) -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_overrides([pair])


def test_override_through_a_value_is_refused() -> None:
    with pytest.raises(ConfigError, match="is a value"):
        apply_overrides({"a": 1}, {"a.b": 2})


def test_data_dir_placeholder_expands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpops.settings import get_settings

    monkeypatch.setenv("NLPOPS_DATA_DIR", "/some/where")
    get_settings.cache_clear()
    try:
        cfg = load_config(write(tmp_path, GOOD.replace("data.csv", "'{data_dir}/x.csv'")))
        assert cfg.data_path() == Path("/some/where/x.csv")
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("{data_dir}/x.jsonl.gz", "{data_dir}/x.jsonl.gz"),  # a YAML flow mapping that does not parse
        ("{data_dir}", "{data_dir}"),  # would parse as the mapping {"data_dir": None}
        ("a: b: c", "a: b: c"),
        ("[stem, lemma]", ["stem", "lemma"]),
        ("{kind: tfidf_nb}", {"kind": "tfidf_nb"}),
        ("2", 2),
        ("", None),
    ],
)
def test_set_values_are_yaml_or_else_the_string_as_typed(value: str, parsed: object) -> None:
    assert parse_overrides([f"data.path={value}"]) == {"data.path": parsed}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``configs/`` beside ``sample/``, a data folder elsewhere, and the current folder a third place."""
    from nlpops.settings import get_settings

    (tmp_path / "configs").mkdir()
    (tmp_path / "sample").mkdir()
    (tmp_path / "sample" / "beside.csv").write_text("text,label\na,b\n")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "shared.csv").write_text("text,label\na,b\n")
    monkeypatch.setenv("NLPOPS_DATA_DIR", str(tmp_path / "shared"))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("../sample/beside.csv", "sample/beside.csv"),  # beside the config, whatever the current folder
        ("shared.csv", "shared/shared.csv"),  # else in the data folder
        ("'{data_dir}/shared.csv'", "shared/shared.csv"),
    ],
)
def test_relative_data_paths_start_beside_the_config(project: Path, written: str, found: str) -> None:
    cfg = load_config(write(project / "configs", GOOD.replace("data.csv", written)))
    assert cfg.data_path() == project / found


def test_a_data_path_found_nowhere_names_both_places(project: Path) -> None:
    cfg = load_config(write(project / "configs", GOOD.replace("data.csv", "nope.csv")))
    with pytest.raises(ConfigError) as err:
        cfg.data_path()
    assert str(err.value) == (
        f"data.path: nope.csv: no such file beside the config ({project / 'configs' / 'nope.csv'}) "
        f"nor in the data folder ({project / 'shared' / 'nope.csv'}); "
        "write '{data_dir}/...' for a file of the data folder (NLPOPS_DATA_DIR)"
    )


def test_skills_config_paths_start_beside_the_config_too(project: Path) -> None:
    from nlpops.skills.config import load_skills_config

    path = project / "configs" / "skills.yaml"
    path.write_text("data: {annotations: ../sample/beside.csv, skill_lists: [shared.csv]}\n")
    cfg = load_skills_config(path, ["data.preannotated={data_dir}/shared.csv"])
    assert cfg.data.path(cfg.data.annotations) == project / "sample" / "beside.csv"
    assert cfg.data.path(cfg.data.skill_lists[0]) == project / "shared" / "shared.csv"
    assert cfg.data.path(str(cfg.data.preannotated)) == project / "shared" / "shared.csv"


def test_the_demo_config_finds_its_sample_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(ROOT / "configs" / "demo.yaml").data_path() == (
        ROOT / "data" / "sample" / "sentiment140_sample.csv"
    )


def test_the_skills_config_loads_as_run_configs_do(tmp_path: Path) -> None:
    """One loader: every wrong key is listed with the file, and the error is a ConfigError."""
    from nlpops.skills.config import SkillsConfig, load_skills_config

    path = tmp_path / "skills.yaml"
    path.write_text("split: {test_size: 2}\ntraining: {max_epochs: 0, bogus: 1}\n")
    with pytest.raises(ConfigError) as err:
        load_skills_config(path, ["cv.folds=1"])
    assert str(err.value).splitlines() == [
        f"{path}: split.test_size: Input should be less than 0.9",
        f"{path}: training.max_epochs: Input should be greater than or equal to 1",
        f"{path}: training.bogus: Extra inputs are not permitted",
        f"{path}: cv: Value error, folds must be 0 (off) or at least 2",
    ]
    with pytest.raises(ConfigError, match="config file not found"):
        load_skills_config(tmp_path / "missing.yaml")
    path.write_text("")  # an empty skills config is the defaults (a run config needs its keys)
    assert load_skills_config(path) == SkillsConfig()
    with pytest.raises(ConfigError, match="expected a mapping at the top level, got NoneType"):
        load_config(path)
