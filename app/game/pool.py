"""The passage pool: generated passages kept ready in the database per (model, temperature).

Each key's fakes are written as its difficulty says (app/game/rules.py writing_for): on the real
excerpt's scaffold, after the scene's preceding lines, under the lexicon at medium and hard, and
at hard as the machine judge's pick of HARD_CANDIDATES. Every passage stores the judge's scores.

A refiller tops up every key to `pool_target` unserved passages (each already paired with its
real excerpt, copy-checked and scored for the heatmap), so taking one for a round is one
statement. The refiller runs in a low-priority process of its own (app/game/refill.py), or as a
thread of the server (`POOL_REFILL=thread`). Passages stay in the bank after they are served:
when a key runs dry faster than it refills, rounds reuse served ones rather than wait. The bank
lives in the database, so it survives a restart.
"""

import logging
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.corpus import Corpus, ExcerptError, RealExcerpt, context_before, sample_excerpt
from app.db import GeneratedPassage, transaction
from app.db.prepared import hot
from app.game.judge import Judge
from app.game.passages import CONTEXT_LENGTH, FacingPassage, make_facing_passage
from app.game.registry import LoadedModel, ModelRegistry
from app.game.rules import PoolKey, pool_keys, writing_for
from app.lm.constraints import Lexicon, training_lexicon

log = logging.getLogger("realornn.pool")

EXCERPT_LENGTHS = (250, 350, 450, 600)  # real excerpts of several lengths: stats by length
# Which key a round tries first tells nothing about its answer, so a Mersenne Twister seeded from
# the OS will do: SystemRandom made a system call per draw, 2.5 % of the server's CPU under load.
_KEY_ORDER = random.Random()


class PoolEmpty(LookupError):
    """No passage could be made for any of the keys asked for."""


@dataclass(frozen=True)
class PooledPassage:
    """What a round needs of its passage; the rest stays in the database until the reveal."""

    id: int
    text: str  # the generated passage
    real_text: str  # the real excerpt it faces


_PASSAGES = GeneratedPassage.__table__
# One statement takes a passage for a round: of the key's passages, an unserved one if there is
# any, else a served one, at random; counted as served; its id and texts returned. Built once.
_TAKE = hot(
    update(_PASSAGES)
    .where(
        _PASSAGES.c.id
        == select(_PASSAGES.c.id)
        .where(
            _PASSAGES.c.model == bindparam("key_model"),
            _PASSAGES.c.temperature == bindparam("key_temperature"),
        )
        .order_by(_PASSAGES.c.served > 0, func.random())
        .limit(1)
        .scalar_subquery()
    )
    .values(served=_PASSAGES.c.served + 1)
    .returning(_PASSAGES.c.id, _PASSAGES.c.text, _PASSAGES.c.real_text)
)


class PassagePool:
    def __init__(
        self,
        models: Mapping[str, LoadedModel],
        sessions: sessionmaker[Session],
        corpus: Corpus,
        keys: list[PoolKey],
        heatmap: LoadedModel | None,
        target: int,
        bank_max: int,
        pace: bool = True,
        judge: Judge | None = None,
        hard_candidates: int = 1,
        lexicon: Lexicon | None = None,
    ):
        self.models, self.sessions, self.corpus = models, sessions, corpus
        self.keys, self.heatmap = keys, heatmap
        self.target, self.bank_max = target, bank_max
        self.judge, self.hard_candidates = judge, hard_candidates
        # the training plays' words, for the keys written under the lexicon (built once)
        self.lexicon = lexicon if lexicon is not None else training_lexicon(corpus)
        # In the server's process the refill rests as long as each passage took, so it never
        # takes more than half the machine from the requests; a niced process needs no rest.
        self.pace = pace
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._make_lock = threading.Lock()  # one generation at a time: 2 cores, torch threads

    # -- the refill thread ---------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._refill_forever, name="passage-pool", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _refill_forever(self) -> None:
        while not self._stop.is_set():
            try:
                made = self.refill_once()
            except Exception:  # a bad model must not kill the pool for the others
                log.exception("passage pool: refill failed")
                made = 0
            if not made:
                self._stop.wait(2.0)

    def refill_once(
        self,
        should_stop: Callable[[], bool] | None = None,
        produce: Callable[[PoolKey, int], bool] | None = None,
    ) -> int:
        """Make one passage for each key below target; the number made. `produce(key, in_bank)`
        makes and hands over one, told how many passages the key has in the bank already
        (default: make and store it here)."""
        should_stop = should_stop or self._stop.is_set
        produce = produce or (lambda key, in_bank: self.make(key) is not None)
        counts = self.counts()
        made = 0
        for key in self.keys:
            if should_stop():
                break
            fresh, total = counts.get(key, (0, 0))
            if fresh < self.target and total < self.bank_max:
                started = time.perf_counter()
                made += produce(key, total)
                if self.pace:
                    self._stop.wait(time.perf_counter() - started)
        return made

    # -- reading ---------------------------------------------------------------------------
    def counts(self) -> dict[PoolKey, tuple[int, int]]:
        """(unserved, all) passages per key."""
        with self.sessions() as session:
            rows = session.execute(
                select(
                    GeneratedPassage.model,
                    GeneratedPassage.temperature,
                    func.sum(case((GeneratedPassage.served == 0, 1), else_=0)),
                    func.count(),
                ).group_by(GeneratedPassage.model, GeneratedPassage.temperature)
            ).all()
        return {PoolKey(m, t): (int(fresh or 0), int(total)) for m, t, fresh, total in rows}

    def ready(self) -> int:
        return sum(min(fresh, self.target) for fresh, _ in self.counts().values())

    def waiting(self) -> list[PoolKey]:
        """The keys in play with no passage stored yet: a round drawn for one of them has
        nothing to show (a served passage will do: the bank reuses them)."""
        counts = self.counts()
        return [key for key in self.keys if counts.get(key, (0, 0))[1] == 0]

    def pick(
        self, session: Session | Connection, keys: list[PoolKey], rng: random.Random | None = None
    ) -> PooledPassage | None:
        """A stored passage for a round, in the caller's transaction: from a random key, an
        unserved one if it has any, else a served one; None when no key has any. One statement
        per key tried; the heatmap columns, which a round never shows, stay unread."""
        for key in self._in_play(keys, rng):
            row = session.execute(
                _TAKE, {"key_model": key.model, "key_temperature": key.temperature}
            ).first()
            if row is not None:
                return PooledPassage(row.id, row.text, row.real_text)
        return None

    def make_for_round(
        self, keys: list[PoolKey], rng: random.Random | None = None
    ) -> PooledPassage:
        """A passage made now, for when the bank holds none for these keys (slow: generation;
        the caller runs this off the event loop and outside any transaction)."""
        for key in self._in_play(keys, rng):
            made = self.make(key, served=1)  # stored as already served: it is this round's
            if made is not None:
                return PooledPassage(made.id, made.text, made.real_text)
        raise PoolEmpty("no passage could be generated for the models asked for")

    def take(self, keys: list[PoolKey], rng: random.Random | None = None) -> PooledPassage:
        """pick in a transaction of its own, else make_for_round."""
        with transaction(self.sessions) as session:
            passage = self.pick(session, keys, rng)
        return passage or self.make_for_round(keys, rng)

    def _in_play(self, keys: list[PoolKey], rng: random.Random | None) -> list[PoolKey]:
        """The keys this pool serves, in random order; PoolEmpty when none is."""
        keys = [key for key in keys if key in self.keys]
        if not keys:
            raise PoolEmpty("no model in play matches the request")
        return (rng or _KEY_ORDER).sample(keys, len(keys))

    # -- making ---------------------------------------------------------------------------
    def make(
        self, key: PoolKey, seed: int | None = None, *, served: int = 0
    ) -> GeneratedPassage | None:
        """Generate, check and store one passage for `key`; None when the model cannot."""
        values = self.generate(key, seed)
        return None if values is None else self.store(values, served=served)

    def generate(self, key: PoolKey, seed: int | None = None) -> dict[str, Any] | None:
        """Generate and check one passage for `key`, paired with its real excerpt and scored for
        the heatmap: the columns of its row (not stored). None when the model cannot."""
        loaded = self.models[key.model]
        seed = seed if seed is not None else secrets.randbelow(2**31)
        rng = random.Random(seed)
        try:
            excerpt = sample_excerpt(self.corpus, rng.choice(EXCERPT_LENGTHS), seed, "test")
        except ExcerptError as error:
            log.warning("passage pool: no excerpt (%s)", error)
            return None
        judge = self.judge
        with self._make_lock:
            facing = write_facing(
                loaded,
                key,
                excerpt,
                self.corpus,
                seed=seed,
                lexicon=self.lexicon,
                judge=judge,
                candidates=self.hard_candidates,
            )
            if facing is None:
                log.info("passage pool: %s gave no usable passage for seed %d", key, seed)
                return None
            generated_bits = real_bits = None
            if self.heatmap is not None:
                generated_bits = bits_per_character(self.heatmap, facing.text)
                real_bits = bits_per_character(self.heatmap, excerpt.text)
        recipe, info = facing.recipe, loaded.info
        judge_real = judge_generated = None
        if judge is not None:
            judge_real, judge_generated = (
                float(s) for s in judge.scores([excerpt.text, facing.text])
            )
        return {
            "model": info.name,
            "model_kind": info.kind,
            "unit": info.unit,
            "checkpoint_sha256": loaded.sha256,
            "temperature": recipe.temperature,
            "top_k": recipe.top_k,
            "top_p": recipe.top_p,
            "seed": recipe.seed,
            "prime": recipe.prime,
            "requested_length": recipe.requested_length,
            "text": facing.text,
            "longest_copied_span": facing.longest_copied_span,
            "real_text": excerpt.text,
            "real_source": real_source(excerpt),
            "heatmap_model": self.heatmap.info.name if self.heatmap else None,
            "generated_bits": generated_bits,
            "real_bits": real_bits,
            "generated_mean_bits": mean_bits(generated_bits),
            "real_mean_bits": mean_bits(real_bits),
            "constraints": recipe.constraints(),
            "judge_model": judge.name if judge is not None else None,
            "judge_real": judge_real,
            "judge_generated": judge_generated,
        }

    def store(self, values: dict[str, Any], *, served: int = 0) -> GeneratedPassage:
        """Put a generated passage in the bank (`served` 1: it is already a round's)."""
        row = GeneratedPassage(**values, served=served)
        with transaction(self.sessions) as session:
            session.add(row)
        return row


def write_facing(
    loaded: LoadedModel,
    key: PoolKey,
    excerpt: RealExcerpt,
    corpus: Corpus,
    *,
    seed: int,
    lexicon: Lexicon | None,
    judge: Judge | None,
    candidates: int,
) -> FacingPassage | None:
    """The fake the game serves against `excerpt` for `key`: written as the key's difficulty says
    (app/game/rules.py writing_for), after the scene's preceding lines; best of `candidates` by
    the judge where the difficulty asks for it and a judge is loaded."""
    return make_facing_passage(
        loaded.generator,
        excerpt,
        temperature=key.temperature,
        seed=seed,
        copied_length=loaded.copied_length,
        writing=writing_for(loaded.info.kind, key.temperature, candidates),
        lexicon=lexicon,
        judge=judge.scores if judge is not None else None,
        context=context_before(corpus, excerpt, CONTEXT_LENGTH),
    )


def make_pool(
    settings: Settings,
    models: ModelRegistry,
    sessions: sessionmaker[Session],
    corpus: Corpus,
    *,
    pace: bool = True,
) -> PassagePool:
    """The pool of these models under these settings: the server and its refiller build the
    same one (the same keys and heatmap model) from the same settings."""
    return PassagePool(
        models,
        sessions,
        corpus,
        pool_keys(models.in_game()),
        models.heatmap,
        target=settings.pool_target,
        bank_max=settings.pool_bank_max,
        pace=pace,
        judge=models.judge,
        hard_candidates=settings.hard_candidates,
    )


def real_source(excerpt) -> dict:
    return {
        "kind": "real",
        "play": excerpt.play,
        "play_slug": excerpt.play_slug,
        "act": excerpt.act,
        "scene": excerpt.scene,
        "scene_label": excerpt.scene_label,
        "speakers": list(excerpt.speakers),
        "first_line": excerpt.first_line,
        "last_line": excerpt.last_line,
        "split": excerpt.split,
        "seed": excerpt.seed,
    }


def bits_per_character(model: LoadedModel, text: str) -> list[float]:
    """-log2 p(char | everything before it), one number per character, rounded for storage."""
    per_char = model.generator.surprisal(text).per_char()  # (len(text),)
    return [round(float(b), 2) for b in per_char]


def mean_bits(bits: list[float] | None) -> float | None:
    """Bits per character of a passage: the mean of its per-character surprisal."""
    return sum(bits) / len(bits) if bits else None
