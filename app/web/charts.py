"""Server-side SVG charts for the stats page: no JavaScript, no plotting library.

A chart is a standalone <svg> string. Every label goes through `html.escape` (model names can be
chosen by whoever trains a model), and nothing uses a `style=""` attribute, which the site's
Content-Security-Policy (`style-src 'self'`) would block: colours are presentation attributes, and
app.css overrides them through the `chart-*` classes (for the dark scheme).
"""

from collections.abc import Callable
from html import escape

ROW_HEIGHT = 30  # one bar per row, with room for its label
TOP = 52  # the title and the axis labels above the bars
BOTTOM = 14
LABEL_WIDTH = 170  # left column: the row's label, right-aligned
COUNT_WIDTH = 64  # right column: "n = 123"
MAX_LABEL_CHARS = 22  # longer labels are shortened; the full label is in the row's <title>
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def bar_chart_svg(
    rows: list[dict],
    *,
    title: str,
    value_key: str = "accuracy",
    low_key: str = "ci_low",
    high_key: str = "ci_high",
    label_key: str = "key",
    count_key: str = "guesses",
    reference: float | None = 0.5,
    width: int = 640,
) -> str:
    """Horizontal bars for proportions in [0, 1], each with its Wilson 95% interval.

    `reference` draws a dashed line (0.5: a coin toss); rows whose value is None say "no data".
    """
    plot_left = LABEL_WIDTH + 10
    plot_width = max(width - plot_left - COUNT_WIDTH, 60)
    height = TOP + ROW_HEIGHT * max(len(rows), 1) + BOTTOM

    def x(fraction: float) -> float:
        return round(plot_left + _clamp(fraction) * plot_width, 1)

    keys = (value_key, low_key, high_key, label_key, count_key)
    described = "; ".join(_describe(row, keys) for row in rows) if rows else "no data yet"
    summary = f"{title}: {described}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{escape(summary)}">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-title" x="0" y="18" font-size="16" font-weight="bold"'
        f' fill="currentColor">{escape(title)}</text>',
    ]
    # Axis: a light grid line and a label at every quarter.
    bottom_y = height - BOTTOM
    for tick in TICKS:
        tx = x(tick)
        parts.append(
            f'<line class="chart-grid" x1="{tx}" y1="{TOP - 8}" x2="{tx}" y2="{bottom_y}"'
            f' stroke="#d0d0d0" stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{tx}" y="{TOP - 14}" font-size="12"'
            f' text-anchor="middle" fill="#555">{round(tick * 100)}%</text>'
        )
    if reference is not None:
        rx = x(reference)
        parts.append(
            f'<line class="chart-ref" x1="{rx}" y1="{TOP - 8}" x2="{rx}" y2="{bottom_y}"'
            f' stroke="#444" stroke-width="1.5" stroke-dasharray="5 4">'
            f"<title>chance: {_percent(reference)}</title></line>"
        )
    if not rows:
        parts.append(
            f'<text class="chart-nodata" x="{plot_left + 8}" y="{TOP + ROW_HEIGHT / 2 + 4}"'
            f' font-size="14" fill="#555">no data yet</text>'
        )
    for index, row in enumerate(rows):
        parts.append(
            _row_svg(
                row,
                top=TOP + index * ROW_HEIGHT,
                x=x,
                plot_left=plot_left,
                count_x=width - 4,
                keys=keys,
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def _row_svg(
    row: dict,
    *,
    top: float,
    x: Callable[[float], float],
    plot_left: float,
    count_x: float,
    keys: tuple[str, str, str, str, str],
) -> str:
    value_key, low_key, high_key, label_key, count_key = keys
    label = str(row.get(label_key, ""))
    shown = label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"
    middle = top + ROW_HEIGHT / 2
    text_y = middle + 4
    value = row.get(value_key)
    count = row.get(count_key)
    parts = [
        '<g class="chart-row">',
        f"<title>{escape(_describe(row, keys))}</title>",
        f'<text class="chart-label" x="{LABEL_WIDTH}" y="{text_y}" font-size="14"'
        f' text-anchor="end" fill="currentColor">{escape(shown)}</text>',
    ]
    if value is None:
        parts.append(
            f'<text class="chart-nodata" x="{plot_left + 6}" y="{text_y}" font-size="13"'
            f' font-style="italic" fill="#555">no data</text>'
        )
    else:
        bar_top = top + 7
        bar_height = ROW_HEIGHT - 14
        parts.append(
            f'<rect class="chart-bar" x="{plot_left}" y="{bar_top}"'
            f' width="{round(x(value) - plot_left, 1)}" height="{bar_height}" fill="#3b6fb6"/>'
        )
        low, high = row.get(low_key), row.get(high_key)
        if low is not None and high is not None:
            lx, hx = x(low), x(high)
            cap_top, cap_bottom = middle - 7, middle + 7
            parts.append(
                f'<path class="chart-ci" d="M{lx} {middle}H{hx}M{lx} {cap_top}V{cap_bottom}'
                f'M{hx} {cap_top}V{cap_bottom}" stroke="#111" stroke-width="1.5" fill="none"/>'
            )
    count_text = "" if count is None else f"n = {count}"
    parts.append(
        f'<text class="chart-count" x="{count_x}" y="{text_y}" font-size="13"'
        f' text-anchor="end" fill="#555">{escape(count_text)}</text>'
    )
    parts.append("</g>")
    return "".join(parts)


def _describe(row: dict, keys: tuple[str, str, str, str, str]) -> str:
    """'char-7gram-kn: 62% (95% CI 48%–74%), n = 40': the row in words, for screen readers."""
    value_key, low_key, high_key, label_key, count_key = keys
    label = str(row.get(label_key, ""))
    value = row.get(value_key)
    count = row.get(count_key)
    counted = "" if count is None else f", n = {count}"
    if value is None:
        return f"{label}: no data{counted}"
    low, high = row.get(low_key), row.get(high_key)
    interval = ""
    if low is not None and high is not None:
        interval = f" (95% CI {_percent(low)}–{_percent(high)})"
    return f"{label}: {_percent(value)}{interval}{counted}"


def _percent(fraction: float) -> str:
    return f"{round(_clamp(fraction) * 100)}%"


def _clamp(fraction: float) -> float:
    return min(max(float(fraction), 0.0), 1.0)


# The stats page's charts, by their key in /api/stats (and in stats.html's `charts`).
STATS_CHARTS: dict[str, dict] = {
    "fool_leaderboard": {
        "title": "How often each model fooled players",
        "value_key": "fool_rate",
        "label_key": "model",
    },
    "by_model": {"title": "Players' accuracy against each model"},
    "by_temperature": {"title": "Accuracy by sampling temperature"},
    "by_mode": {"title": "Accuracy by game mode"},
    "by_length": {"title": "Accuracy by passage length"},
}


def stats_charts(stats: dict) -> dict[str, str]:
    """Every chart stats.html shows, from the /api/stats dict: `charts=stats_charts(stats)`."""
    return {
        key: bar_chart_svg(list(stats.get(key) or []), **options)
        for key, options in STATS_CHARTS.items()
    }


ROOM_CHARTS = {
    "by_model": "Class accuracy by model",
    "by_temperature": "Class accuracy by temperature",
}


def with_room_charts(room_state: dict) -> dict:
    """A room's public state (app.game.classroom.public_state) with the charts of its
    end-of-session summary drawn, as the projector shows them: summary["charts"]."""
    summary = room_state.get("summary")
    if summary is not None:
        summary["charts"] = {
            key: bar_chart_svg(summary[key], title=title) for key, title in ROOM_CHARTS.items()
        }
    return room_state
