"""The `realornn` command: corpus statistics, training, listing, sampling and scoring models.

Every mistake (an unknown model, an order out of range, a missing or corrupt checkpoint, a
temperature of 0, an empty text) prints one line starting with "realornn: error:" and exits with
status 2; no traceback reaches the user.

One module per command group, each adding its subcommands next to their handlers: `corpus`
(corpus stats, export), `train` (ngram, rnn), `models` (models, sample, eval) and `serve`
(demo, serve); `common` holds what they share.
"""

import shlex
import sys
from pathlib import Path

from app.cli import corpus, models, serve, train
from app.cli.common import CommandError, Parser
from app.config import BadSettings
from app.corpus import CorpusError, ExcerptError
from app.lm.checkpoints import CheckpointError
from app.lm.ngram import NGramError
from app.lm.provenance import TrainingTextUnavailable
from app.lm.sampling import SamplingError

USER_ERRORS = (
    BadSettings,
    CorpusError,
    ExcerptError,
    NGramError,
    CheckpointError,
    SamplingError,
    TrainingTextUnavailable,
)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = shlex.join(["realornn", *(sys.argv[1:] if argv is None else argv)])
    if not hasattr(args, "handler"):
        parser.print_help()
        return 0
    try:
        args.handler(args)
    except (CommandError, *USER_ERRORS) as error:
        print(f"realornn: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `realornn sample ... | head`
        return 0
    return 0


def build_parser() -> Parser:
    parser = Parser(
        prog="realornn",
        description="Real or RNN? -- n-gram and RNN language models of Shakespeare, and a game.",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="folder of checkpoints (default: $MODELS_DIR or ./models of the project)",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for group in (corpus, train, models, serve):  # the order `realornn --help` lists them in
        group.add_commands(commands)
    return parser
