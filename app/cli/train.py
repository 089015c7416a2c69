"""`realornn train ngram` (seconds), `realornn train rnn` (torch loads only for this one) and
`realornn train judge` (app/cli/judge.py)."""

import argparse
import json
import sys
from pathlib import Path

from app.cli import judge
from app.cli.common import CommandError, Parser
from app.corpus import load_corpus, sha256_text
from app.lm.evaluation import held_out_figures
from app.lm.ngram import SMOOTHINGS, NGramConfig, NGramModel, save_ngram


def add_commands(commands: argparse._SubParsersAction) -> None:
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
    judge.add_command(train_commands)


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


def print_report(result: dict, as_json: bool) -> None:
    """A training result: JSON, or one "key: value" line each."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")
