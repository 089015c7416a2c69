"""`realornn train judge`: the machine judge of the models in the game (minutes)."""

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from app.cli.common import CommandError, models_dir_of
from app.config import load_settings


def add_command(train_commands: argparse._SubParsersAction) -> None:
    judge = train_commands.add_parser(
        "judge",
        help="train the machine judge on the game's fakes from the training plays (minutes)",
    )
    judge.add_argument(
        "--per-key",
        type=int,
        default=200,
        help="training pairs per (model, temperature) of the game (default: 200)",
    )
    judge.add_argument(
        "--val-per-key",
        type=int,
        default=50,
        help="held-out pairs per (model, temperature), from the validation plays (default: 50)",
    )
    judge.add_argument(
        "--candidates",
        type=int,
        default=None,
        help="best-of-N at hard for the hard level's figure (default: HARD_CANDIDATES)",
    )
    judge.add_argument("--seed", type=int, default=0, help="seed of the pairs (default: 0)")
    judge.add_argument(
        "--out",
        default=None,
        help="checkpoint path (default: the JUDGE_PATH setting, models/judge/judge.safetensors)",
    )
    judge.add_argument(
        "--models-dir", type=Path, default=None, help="the models it judges (default: models/)"
    )
    judge.add_argument("--json", action="store_true", help="print the result as JSON")
    judge.set_defaults(handler=cmd_train_judge)


def cmd_train_judge(args: argparse.Namespace) -> None:
    from app.corpus import load_corpus
    from app.game.judge_training import JudgeTraining, train_judge
    from app.game.registry import ModelRegistry
    from app.game.rules import pool_keys
    from app.lm.constraints import training_lexicon

    settings = load_settings()
    if args.models_dir is not None:
        settings = settings.model_copy(update={"models_dir": args.models_dir})
    for name in ("per_key", "val_per_key"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
    candidates = settings.hard_candidates if args.candidates is None else args.candidates
    if not 1 <= candidates <= 16:
        raise CommandError(f"--candidates must be between 1 and 16, got {candidates}")
    models = ModelRegistry.load(settings)
    keys = pool_keys(models.in_game())
    if not keys:
        raise CommandError(f"no model in {models_dir_of(args)} may play: nothing to judge")
    corpus = load_corpus()
    training = replace(
        JudgeTraining(),
        per_key=args.per_key,
        val_per_key=args.val_per_key,
        candidates=candidates,
        seed=args.seed,
    )
    say = sys.stderr if args.json else sys.stdout
    judge = train_judge(
        models,
        corpus,
        keys,
        training,
        training_lexicon(corpus),
        progress=lambda line: print(line, file=say, flush=True),
    )
    judge.info.training["command"] = args.command_line
    path = judge.save(args.out or settings.resolved_judge_path())
    figures = judge.info.figures
    result = {
        "checkpoint": str(path),
        "bytes": path.stat().st_size,
        "seconds": judge.info.training["seconds"],
        "held_out_pair_accuracy": figures["held_out"]["accuracy"],
        "by_difficulty": {k: v["accuracy"] for k, v in figures["by_difficulty"].items()},
        "by_model": {k: v["accuracy"] for k, v in figures["held_out"]["by_model"].items()},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")
