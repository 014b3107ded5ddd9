"""``python -m nlpops`` runs the CLI."""

from nlpops.cli import main

main()
