"""Loaders: every format on small made-up files, detection, forcing and the error messages."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from nlpops.data import ColumnMap, DataError, detect_format, load_dataset, register_format

RAW_ROWS = [
    ("0", "1467810369", "Mon Apr 06 22:19:45 PDT 2009", "NO_QUERY", "alice", "caf\xe9 is closed"),
    ("4", "1467810672", "Tue Jun 16 08:40:49 PDT 2009", "NO_QUERY", "bob", "love it"),
    ("2", "1467810917", "", "NO_QUERY", "carol", "meh"),
]


def _raw_bytes() -> bytes:
    lines = ['"' + '","'.join(row) + '"' for row in RAW_ROWS]
    return ("\n".join(lines) + "\n").encode("latin-1")


def _write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    return _write(path, "\n".join(json.dumps(r) for r in records) + "\n")


@pytest.mark.parametrize("name", ["raw.csv", "raw.csv.gz", "raw.zip", "noext"])
def test_sentiment140_raw_latin1_plain_gz_zip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(_raw_bytes()))
    elif name.endswith(".zip"):
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("training.csv", _raw_bytes())
    else:
        path.write_bytes(_raw_bytes())
    df = load_dataset(path)
    assert df.attrs["format"] == "sentiment140"
    assert df["text"].tolist() == ["café is closed", "love it", "meh"]
    assert df["label"].tolist() == ["negative", "positive", "neutral"]
    assert df["id"].tolist() == ["1467810369", "1467810672", "1467810917"]
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert df["timestamp"].iloc[0] == pd.Timestamp("2009-04-07 05:19:45", tz="UTC")
    assert pd.isna(df["timestamp"].iloc[2])
    assert "user" not in df and "date" not in df


def test_sentiment140_merged_file_with_header(tmp_path: Path) -> None:
    text = (
        "target,ids,date,flag,user,text,orig_row,subset\n"
        "0,1,Mon Apr 06 22:19:45 PDT 2009,NO_QUERY,al,sad day,0,head50k\n"
        "4,,,,,happy day,1599999,tail50k\n"
    )
    df = load_dataset(_write(tmp_path / "s.csv", text))
    assert df.attrs["format"] == "sentiment140"
    assert df["label"].tolist() == ["negative", "positive"]
    assert df["id"].tolist() == ["1", None]
    assert pd.isna(df["timestamp"].iloc[1])


def test_airline_keeps_18_digit_ids_and_utc(tmp_path: Path) -> None:
    text = (
        "tweet_id,airline_sentiment,airline,text,tweet_created\n"
        "570306133677760513,neutral,Virgin America,@VirginAmerica What,2015-02-24 11:35:52 -0800\n"
        "570301130888122368,positive,United,nice,2015-02-24 11:15:59 -0500\n"
    )
    df = load_dataset(_write(tmp_path / "Tweets.csv", text))
    assert df.attrs["format"] == "airline"
    assert df["id"].tolist() == ["570306133677760513", "570301130888122368"]
    assert df["group"].tolist() == ["Virgin America", "United"]
    assert df["timestamp"].tolist() == [
        pd.Timestamp("2015-02-24 19:35:52", tz="UTC"),
        pd.Timestamp("2015-02-24 16:15:59", tz="UTC"),
    ]


def test_generic_csv_tsv_jsonl_parquet_with_column_map(tmp_path: Path) -> None:
    frame = pd.DataFrame({"body": ["a b", "c"], "y": [1, 0], "who": ["u1", "u2"]})
    cmap = ColumnMap(text="body", label="y", group="who")
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    frame.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "d.parquet")
    for name, fmt in [("d.csv", "csv"), ("d.tsv", "tsv"), ("d.jsonl", "jsonl"), ("d.parquet", "parquet")]:
        df = load_dataset(tmp_path / name, columns=cmap, label_map={"1": "pos", "0": "neg"})
        assert df.attrs["format"] == fmt
        assert df["text"].tolist() == ["a b", "c"]
        assert df["label"].tolist() == ["pos", "neg"]
        assert df["group"].tolist() == ["u1", "u2"]


def test_generic_csv_without_label_is_unlabelled(tmp_path: Path) -> None:
    df = load_dataset(_write(tmp_path / "u.csv", "text\nhello\n\n"))
    assert df["label"].isna().all()
    df = load_dataset(_write(tmp_path / "n.csv", "text,label\nNA,x\n,y\n"), limit=2)
    assert df["text"].tolist() == ["NA", ""]  # "NA" is a text, a missing field is empty


def test_naive_timestamps_stay_naive(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.csv", "text,label,when\na,x,2020-01-02 03:04:05\nb,y,nonsense\n")
    df = load_dataset(path, columns={"timestamp": "when"})
    assert df["timestamp"].iloc[0] == pd.Timestamp("2020-01-02 03:04:05")
    assert pd.isna(df["timestamp"].iloc[1])


def test_doccano_classification_first_label_and_cats(tmp_path: Path) -> None:
    path = _jsonl(
        tmp_path / "cls.jsonl",
        [
            {"id": 1, "text": "good", "label": ["pos", "other"]},
            {"id": 2, "text": "bad", "label": ["neg"]},
            {"id": 3, "text": "none", "label": []},
            {"id": 4, "text": "scored", "cats": {"pos": 0.2, "neg": 0.8}},
        ],
    )
    df = load_dataset(path)
    assert df.attrs["format"] == "doccano"
    assert df["label"].tolist() == ["pos", "neg", None, "neg"]
    assert df["id"].tolist() == ["1", "2", "3", "4"]
    assert "spans" not in df


@pytest.mark.parametrize(
    "entities",
    [
        {"label": [[0, 6, "PROG_LANG"], [11, 16, "DB"]]},
        {"entities": [[0, 6, "PROG_LANG"], [11, 16, "DB"]]},
        {
            "entities": [
                {"start_offset": 0, "end_offset": 6, "label": "PROG_LANG"},
                {"start_offset": 11, "end_offset": 16, "label": "DB"},
            ]
        },
    ],
)
def test_doccano_spans_variants(tmp_path: Path, entities: dict[str, object]) -> None:
    first = {"id": 7, "text": "nothing", "label": []}
    path = _jsonl(tmp_path / "ner.jsonl.gz", [first, {"id": 8, "text": "Python and MySQL", **entities}])
    path.write_bytes(gzip.compress(path.read_bytes()))
    df = load_dataset(path, fmt="doccano")
    assert df["spans"].tolist() == [[], [(0, 6, "PROG_LANG"), (11, 16, "DB")]]
    assert df["label"].isna().all()


@pytest.fixture
def reviews_format() -> Iterator[list[Path]]:
    """A format registered by this test (``key=value`` lines): the files its reader was given."""
    from nlpops.data.formats import FORMATS, ReadOptions

    read: list[Path] = []

    @register_format("reviews", layout="csv", suffixes=(".reviews",), sniff=lambda p: "text=" in p.first_line)
    def read_reviews(path: Path, options: ReadOptions) -> pd.DataFrame:
        read.append(path)
        rows = [
            dict(field.split("=", 1) for field in line.split(";")) for line in path.read_text().splitlines()
        ]
        return pd.DataFrame(rows[: options.limit])

    yield read
    del FORMATS["reviews"]


def test_a_registered_format_is_detected_and_read(tmp_path: Path, reviews_format: list[Path]) -> None:
    by_name = _write(tmp_path / "a.reviews.gz", "whatever")
    assert detect_format(by_name) == "reviews"  # by its suffix (a compression suffix is looked through)
    by_content = _write(tmp_path / "b.txt", "text=great;label=positive\ntext=awful;label=negative\n")
    assert detect_format(by_content) == "reviews"
    frame = load_dataset(by_content, limit=1)
    assert frame.to_dict("records") == [{"text": "great", "label": "positive"}]
    assert frame.attrs["format"] == "reviews" and reviews_format == [by_content]
    assert detect_format(_write(tmp_path / "plain.txt", "text,label\nhi,x\n")) == "csv"  # others unchanged


def test_detection_and_forcing(tmp_path: Path) -> None:
    raw = tmp_path / "raw.txt"
    raw.write_bytes(_raw_bytes())
    assert detect_format(raw) == "sentiment140"
    plain = _write(tmp_path / "plain.txt", "text,label\nhi,x\n")
    assert detect_format(plain) == "csv"
    assert detect_format(_write(tmp_path / "j.data", '{"text": "a", "label": "x"}\n')) == "jsonl"
    assert detect_format(_write(tmp_path / "d.json", '{"text": "a", "label": ["x"]}\n')) == "doccano"
    forced = load_dataset(_write(tmp_path / "x.csv", "text\tlabel\nhi\tx\n"), fmt="TSV")
    assert forced["label"].tolist() == ["x"]
    with pytest.raises(DataError, match="unknown format 'xml'"):
        load_dataset(plain, fmt="xml")


def test_bad_jsonl_line_names_line_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", '{"text": "a", "label": "x"}\n\n{"text": oops}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl: line 3: malformed JSON"):
        load_dataset(path)


def test_undecodable_bytes_name_line_number(tmp_path: Path) -> None:
    path = _write(tmp_path / "enc.csv", b"text,label\nfine,x\nbad \xff\xfe byte,y\n")
    with pytest.raises(DataError, match=r"enc\.csv: line 3: .*not valid utf-8"):
        load_dataset(path)


def test_missing_column_lists_columns_found(tmp_path: Path) -> None:
    path = _write(tmp_path / "cols.csv", "body,y\nhi,x\n")
    with pytest.raises(DataError, match=r"cols\.csv: missing column\(s\) text; columns found: body, y"):
        load_dataset(path)
    with pytest.raises(DataError, match="missing column"):
        load_dataset(path, columns={"text": "body", "label": "label"})


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "folder", "is a directory"),
        (lambda p: p / "absent.csv", "no such file"),
        (lambda p: _write(p / "empty.csv", ""), "empty file"),
        (lambda p: _write(p / "blank.jsonl", "\n\n"), "empty file"),
        (lambda p: _write(p / "header.csv", "text,label\n"), "no data rows"),
    ],
)
def test_file_errors(tmp_path: Path, make: object, message: str) -> None:
    (tmp_path / "folder").mkdir()
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(DataError, match=message) as info:
        load_dataset(path)
    assert path.name in str(info.value)


def test_relative_path_found_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nlpops.settings import get_settings

    _write(tmp_path / "rel.csv", "text,label\nhi,x\n")
    monkeypatch.setenv("NLPOPS_DATA_DIR", str(tmp_path))
    monkeypatch.chdir("/")
    get_settings.cache_clear()
    try:
        assert load_dataset("rel.csv")["text"].tolist() == ["hi"]
    finally:
        get_settings.cache_clear()


def test_forcing_generic_format_on_a_known_file(tmp_path: Path) -> None:
    text = (
        "tweet_id,airline_sentiment,airline,text,tweet_created\n"
        "1,neutral,United,hi,2015-02-24 11:35:52 -0800\n"
    )
    path = _write(tmp_path / "Tweets.csv", text)
    df = load_dataset(path, fmt="csv", columns={"label": "airline_sentiment"})
    assert df.columns.tolist() == ["text", "label"]
    assert df["label"].tolist() == ["neutral"]


def test_zip_with_two_files_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "text\na\n")
        archive.writestr("b.csv", "text\nb\n")
    with pytest.raises(DataError, match="exactly one data file"):
        load_dataset(path, fmt="csv")


@pytest.mark.parametrize("sep", [";", "|", "\t", ","])
def test_the_separator_of_a_generic_csv_is_sniffed(tmp_path: Path, sep: str) -> None:
    # texts holding the other separators must not fool the sniffer
    frame = pd.DataFrame({"text": ["a, b; c", "d | e", "f\tg", "plain"], "label": ["x", "y", "x", "y"]})
    path = tmp_path / "posts.csv"
    frame.to_csv(path, index=False, sep=sep)
    loaded = load_dataset(path)
    assert (
        loaded["text"].tolist() == frame["text"].tolist()
        and loaded["label"].tolist() == frame["label"].tolist()
    )


def test_a_one_column_csv_with_semicolons_in_its_texts_stays_comma_separated(tmp_path: Path) -> None:
    path = _write(tmp_path / "texts.csv", "text\nun; deux\ntrois; quatre\n")
    assert load_dataset(path)["text"].tolist() == ["un; deux", "trois; quatre"]


def test_a_wrong_column_mapping_is_a_user_error(tmp_path: Path) -> None:
    from nlpops.errors import ParameterError

    with pytest.raises(
        ParameterError, match=r"^columns: txt: Extra inputs are not permitted \(known: text, label"
    ):
        load_dataset(_write(tmp_path / "a.csv", "text,label\nhi,x\n"), columns={"txt": "text"})
