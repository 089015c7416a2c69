"""`realornn demo` (the game in the terminal) and `realornn serve` (the game in the browser)."""

import argparse
import os
import random
import sys
from pathlib import Path

from app.cli.common import CommandError, compact_parameters, corpus_of, models_dir_of
from app.config import get_settings, load_settings
from app.corpus import load_corpus, sample_excerpt
from app.game import whole_lines
from app.lm.base import Generator
from app.lm.checkpoints import (
    CheckpointError,
    find_checkpoints,
    load_checkpoint,
    read_header,
    resolve_checkpoint,
)
from app.lm.copyguard import CopyGuard
from app.lm.sampling import SamplingParams


def add_commands(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo", help="'Which is the real Shakespeare?' in the terminal, on the shipped models"
    )
    demo.add_argument(
        "--model", default=None, help="model to play against (default: the best shipped one)"
    )
    demo.add_argument(
        "--length", type=int, default=400, help="passage length in characters (default: 400)"
    )
    demo.add_argument(
        "--seed", type=int, default=None, help="seed for the excerpt, the passage and the order"
    )
    demo.set_defaults(handler=cmd_demo)

    serve = commands.add_parser(
        "serve", help="the game in the browser: a uvicorn server on the models folder"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default: 1; each loads the models)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn's log level (default: info)",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_demo(args: argparse.Namespace) -> None:
    models_dir = models_dir_of(args)
    if args.model:
        model = load_checkpoint(resolve_checkpoint(args.model, models_dir))
    else:
        model = best_shipped_model(models_dir)
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    excerpt = sample_excerpt(load_corpus(), args.length, seed)  # type: ignore[arg-type]
    prime = excerpt.text.split("\n", 1)[0] + "\n"  # the same speaker, so topics match
    guard = CopyGuard(corpus_of(model.info).text("train"))
    for attempt in range(20):  # never show a copy of Shakespeare as "generated"
        generated = model.sample(
            SamplingParams(
                length=len(excerpt.text) - len(prime),
                temperature=0.8,
                prime=prime,
                seed=seed + attempt,
            )
        )[0].text
        if guard.longest_copied_span(generated).length < 40:
            break
    generated = whole_lines(generated)
    real_first = random.Random(seed).random() < 0.5
    passages = [excerpt.text, generated] if real_first else [generated, excerpt.text]
    for i, text in enumerate(passages, 1):
        print(f"===== Passage {i} =====\n{text}")
    answer = 1 if real_first else 2
    if sys.stdin.isatty():
        choice = input("Which is the real Shakespeare? [1/2] ").strip()
        print("Right!" if choice == str(answer) else "Wrong!", end=" ")
    print(f"Passage {answer} is the real Shakespeare: {excerpt.attribution()}.")
    print(
        f"The other was written by {model.name} ({model.info.kind}, "
        f"{compact_parameters(model.info.parameters)}) at temperature 0.8, seed {seed}."
    )


def cmd_serve(args: argparse.Namespace) -> None:
    import logging

    import uvicorn

    from app.db import migrate
    from app.db.notify import is_postgresql

    if not 1 <= args.port <= 65535:
        raise CommandError(f"--port must be between 1 and 65535, got {args.port}")
    if args.workers < 1:
        raise CommandError(f"--workers must be at least 1, got {args.workers}")
    models_dir = models_dir_of(args)
    if not find_checkpoints(models_dir):
        raise CommandError(f"no checkpoint (*.safetensors) in {models_dir}")
    if args.models_dir:  # the workers read their settings from the environment
        os.environ["MODELS_DIR"] = str(args.models_dir)
        get_settings.cache_clear()
    settings = load_settings()
    # Once, before the workers start: the schema, and one secret key they all sign with.
    migrate(settings.resolved_database_url())
    os.environ["SECRET_KEY"] = settings.resolved_secret_key()
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s:     %(message)s")
    if is_postgresql(settings.resolved_database_url()) and not settings.secret_key:
        # replicas on other hosts would each make their own key: a cookie from one would be
        # a stranger's on the next, and the player would start over at every replica
        logging.warning(
            "SECRET_KEY is unset: this server signs cookies with the key in %s; several replicas "
            "on one database must share one SECRET_KEY (docs/deploy.md)",
            settings.data_dir / "secret_key",
        )
    print(f"Real or RNN? on http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(
        "app.web.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )


def best_shipped_model(models_dir: Path) -> Generator:
    """The shipped model with the lowest test bits per char."""
    scored = []
    for path in find_checkpoints(models_dir):
        try:
            info, _ = read_header(path)
        except CheckpointError:
            continue
        if info.corpus == "shakespeare-plays" and "test_bits_per_char" in info.figures:
            scored.append((info.figures["test_bits_per_char"], path))
    if not scored:
        raise CommandError(
            f"no usable checkpoints in {models_dir}: "
            f"train one with 'realornn train ngram --out {models_dir}/NAME'"
        )
    return load_checkpoint(min(scored)[1])
