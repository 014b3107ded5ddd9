"""The data stage: load any supported dataset, validate it, split it without leakage.

Usage (not run as a doctest: it needs a model or data file)::

    from nlpops.data import load_dataset, split_dataset, check_leakage
    result = split_dataset(load_dataset("sentiment140_train_subset_110k.csv.gz"), seed=42)
    check_leakage(result.train, result.val, result.test)
"""

from nlpops.data.files import data_dir, resolve_path, sha256_file
from nlpops.data.formats import FORMATS, detect_format, register_format
from nlpops.data.loaders import load_dataset
from nlpops.data.normalize import normalize_text
from nlpops.data.readers import SENTIMENT140_LABELS, ColumnMap
from nlpops.data.split import SplitResult, check_leakage, split_dataset, write_split
from nlpops.data.validate import LengthStats, ValidationReport, validate_dataset, validate_frame
from nlpops.errors import DataError, LeakageError, MissingColumnError

__all__ = [
    "FORMATS",
    "SENTIMENT140_LABELS",
    "ColumnMap",
    "DataError",
    "LeakageError",
    "LengthStats",
    "MissingColumnError",
    "SplitResult",
    "ValidationReport",
    "check_leakage",
    "data_dir",
    "detect_format",
    "load_dataset",
    "normalize_text",
    "register_format",
    "resolve_path",
    "sha256_file",
    "split_dataset",
    "validate_dataset",
    "validate_frame",
    "write_split",
]
