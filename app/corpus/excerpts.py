"""Real excerpts: whole consecutive speeches from one scene, close to a requested length, seeded."""

import random
from dataclasses import dataclass

from app.corpus.corpus import PlaysCorpus, render_speech
from app.corpus.splits import Split

LENGTH_TOLERANCE = 0.15  # an excerpt is within 15% of the requested length
MIN_EXCERPT_LENGTH = 40
MAX_EXCERPT_LENGTH = 20_000
MAX_ATTEMPTS = 2_000


class ExcerptError(ValueError):
    """No excerpt can satisfy the request (a length out of range, an empty split)."""


@dataclass(frozen=True)
class RealExcerpt:
    text: str  # rendered exactly like a generated passage; ends with one "\n"
    play: str
    play_slug: str
    act: str
    scene: str
    scene_label: str  # "Act III, Scene I"
    speakers: tuple[str, ...]  # in order of first appearance
    first_line: int  # line numbers within the scene, inclusive
    last_line: int
    split: str
    seed: int

    def attribution(self) -> str:
        return f"{self.play}, {self.scene_label}, lines {self.first_line}-{self.last_line}"


def sample_excerpt(
    corpus: PlaysCorpus, length: int, seed: int, split: Split = "test"
) -> RealExcerpt:
    """Consecutive whole speeches of one scene whose rendering is within 15% of `length` chars.

    The same (split, length, seed) always gives the same excerpt.
    """
    if not MIN_EXCERPT_LENGTH <= length <= MAX_EXCERPT_LENGTH:
        raise ExcerptError(
            f"length must be between {MIN_EXCERPT_LENGTH} and {MAX_EXCERPT_LENGTH} characters, "
            f"got {length}"
        )
    scenes = [(play, scene) for play in corpus.plays_in(split) for scene in play.scenes]
    if not scenes:
        raise ExcerptError(f"the {split} split has no plays")
    low, high = length * (1 - LENGTH_TOLERANCE), length * (1 + LENGTH_TOLERANCE)
    rng = random.Random(seed)
    # Weight scenes by their number of speeches so every speech is about equally likely to start.
    weights = [len(scene.speeches) for _, scene in scenes]
    for _ in range(MAX_ATTEMPTS):
        play, scene = rng.choices(scenes, weights)[0]
        start = rng.randrange(len(scene.speeches))
        # Grow the run speech by speech; keep the end whose length (less the final blank line)
        # comes closest to the request.
        total, best_end, best_gap = -1, None, None
        for end in range(start + 1, len(scene.speeches) + 1):
            total += len(render_speech(scene.speeches[end - 1]))
            if total > high:
                break
            gap = abs(total - length)
            if total >= low and (best_gap is None or gap < best_gap):
                best_end, best_gap = end, gap
        if best_end is not None:
            end = best_end
            chosen = scene.speeches[start:end]
            text = "".join(render_speech(s) for s in chosen)[:-1]
            return RealExcerpt(
                text=text,
                play=play.title,
                play_slug=play.slug,
                act=scene.act,
                scene=scene.scene,
                scene_label=scene.label,
                speakers=tuple(dict.fromkeys(s.speaker for s in chosen)),
                first_line=chosen[0].first_line_number,
                last_line=chosen[-1].line_numbers[-1],
                split=split,
                seed=seed,
            )
    raise ExcerptError(
        f"no run of whole speeches in the {split} plays is within 15% of {length} characters"
    )


def context_before(corpus: PlaysCorpus, excerpt: RealExcerpt, length: int) -> str:
    """The scene's text just before the excerpt, rendered, at most `length` characters of whole
    speeches (or the last lines of the one speech before, under its heading): what a fake is
    primed with so that it goes on with the same scene, never shown. "" at a scene's start."""
    plays = getattr(corpus, "plays", ())  # a plain-text corpus has no scenes to read
    play = next((p for p in plays if p.slug == excerpt.play_slug), None)
    if play is None or length <= 0:
        return ""
    scene = next((s for s in play.scenes if (s.act, s.scene) == (excerpt.act, excerpt.scene)), None)
    if scene is None:
        return ""
    start = next(
        (i for i, s in enumerate(scene.speeches) if s.first_line_number == excerpt.first_line),
        None,
    )
    if not start:
        return ""
    parts: list[str] = []
    total = 0
    for speech in reversed(scene.speeches[:start]):
        rendered = render_speech(speech)
        if total + len(rendered) > length:
            if not parts:  # the one speech before is longer: its last lines, under its heading
                heading, lines = f"{speech.speaker}:\n", []
                for line in reversed(speech.lines):
                    if len(heading) + sum(len(x) + 1 for x in lines) + len(line) + 2 > length:
                        break
                    lines.insert(0, line)
                if lines:
                    parts.append(heading + "\n".join(lines) + "\n\n")
            break
        parts.insert(0, rendered)
        total += len(rendered)
    return "".join(parts)
