"""``nlpops export-onnx``: a fine-tuned transformer to ONNX (int8), checked, then registered."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nlpops.cli.common import clean_errors, console, examples, quiet_libraries
from nlpops.errors import DataError, UsageError

EXAMPLES = examples(
    "nlpops export-onnx --model models:/tweets@champion --config configs/sentiment140_transformer.yaml "
    "--out exports/tweets-int8",
    "nlpops export-onnx --model models:/tweets@champion --data tweets.csv --out exports/tweets --promote",
)


def _parity_texts(config: Path | None, data: Path | None, limit: int) -> list[str]:
    """The config's test split, or the texts of a data file (the first ``limit`` of either)."""
    if (config is None) == (data is None):
        raise UsageError("give exactly one of --config (its test split) or --data FILE for the parity check")
    if config is not None:
        from nlpops.config import load_config
        from nlpops.train import prepare_data

        texts = prepare_data(load_config(config)).test["text"].tolist()
    else:
        from nlpops.data import load_dataset

        texts = load_dataset(Path(str(data)))["text"].tolist()
    if not texts:
        raise DataError("no texts to check parity on")
    return [str(t) for t in texts[:limit]]


def export_onnx(
    model: Annotated[
        str,
        typer.Option(
            "--model", metavar="URI", help="A transformer: models:/name@champion, runs:/id/model or a folder."
        ),
    ],
    out: Annotated[Path, typer.Option(help="New folder for the exported model.")],
    config: Annotated[Path | None, typer.Option(help="Run config: parity on its test split.")] = None,
    data: Annotated[Path | None, typer.Option(help="Or a data file: parity on its texts.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Parity texts at most.")] = 5000,
    int8: Annotated[bool, typer.Option("--int8/--fp32", help="Quantise the weights to int8.")] = True,
    full_int8: Annotated[
        bool, typer.Option(help="Also quantise the feed-forward outputs: faster, parity near 99%.")
    ] = False,
    register: Annotated[bool, typer.Option(help="Log and register the export in MLflow.")] = True,
    promote: Annotated[bool, typer.Option(help="Move @champion to the exported version.")] = False,
) -> None:
    """Export a transformer to ONNX, check it against the original, and register it as a new version."""
    from nlpops.export import export_model

    quiet_libraries()
    with clean_errors():
        texts = _parity_texts(config, data, limit)
        with console.status("exporting to ONNX…"):
            result = export_model(
                model, texts, out, int8=int8, register=register, promote=promote, full_int8=full_int8
            )
    p = result.parity
    console.print(
        f"parity on {p.n} texts: labels agree {p.agreement:.2%}, max |Δp| {p.max_proba_diff:.4f}; "
        f"{p.torch_ms_per_text:.2f} ms/text torch → {p.onnx_ms_per_text:.2f} ms/text ONNX; "
        f"{result.size_mb:.1f} MB"
    )
    console.print(f"exported: {result.folder}")
    if result.registered:
        console.print(f"registered {result.registered} v{result.version} (alias @onnx)")
