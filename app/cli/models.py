"""`realornn models`, `sample` and `eval`: list the checkpoints, generate from and score one."""

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from app.cli.common import compact_parameters, corpus_of, load_model, models_dir_of, print_table
from app.corpus import load_corpus
from app.lm.base import ModelInfo
from app.lm.checkpoints import CheckpointError, find_checkpoints, read_header
from app.lm.constraints import spelled_from, training_lexicon
from app.lm.evaluation import evaluate_text
from app.lm.provenance import TrainingTextUnavailable, describe_copy
from app.lm.sampling import SamplingParams


def add_commands(commands: argparse._SubParsersAction) -> None:
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
        "--lexicon",
        action="store_true",
        help="spell only words of the training plays (as the game does at medium and hard)",
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
    constraints = spelled_from(training_lexicon(load_corpus()), model) if args.lexicon else None
    passages = model.sample(params, count=args.count, constraints=constraints)
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
                "params": {**asdict(params), "seed": passage.seed, "lexicon": args.lexicon},
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


def decode_escapes(text: str) -> str:
    """'ROMEO:\\n' typed in a shell -> 'ROMEO:' and a newline."""
    return (
        text.encode("latin-1", "backslashreplace").decode("unicode_escape")
        if "\\" in text
        else text
    )
