"""The stats page's SVG bar charts: valid XML, one bar per row with data, labels escaped."""

import xml.etree.ElementTree as ET

from app.web.charts import bar_chart_svg, with_room_charts

SVG = "{http://www.w3.org/2000/svg}"


def row(key: str, guesses: int, accuracy: float | None, low=None, high=None) -> dict:
    return {"key": key, "guesses": guesses, "accuracy": accuracy, "ci_low": low, "ci_high": high}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def by_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [element for element in root.iter() if element.get("class") == name]


def test_chart_is_valid_xml_with_one_bar_and_one_interval_per_row():
    rows = [row("char-7gram-kn", 40, 0.62, 0.47, 0.75), row("char-lstm-2x512", 12, 0.5, 0.25, 0.75)]
    root = parse(bar_chart_svg(rows, title="Accuracy by model"))
    assert len(by_class(root, "chart-bar")) == 2
    assert len(by_class(root, "chart-ci")) == 2
    labels = [element.text for element in by_class(root, "chart-label")]
    assert labels == ["char-7gram-kn", "char-lstm-2x512"]
    counts = [element.text for element in by_class(root, "chart-count")]
    assert counts == ["n = 40", "n = 12"]


def test_chart_is_accessible_image_with_title_and_summary():
    root = parse(bar_chart_svg([row("easy", 10, 0.8, 0.49, 0.94)], title="By difficulty"))
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "By difficulty"
    assert root.get("aria-label") == "By difficulty: easy: 80% (95% CI 49%–94%), n = 10"


def test_bar_length_is_proportional_to_the_value():
    rows = [row("full", 5, 1.0, 1.0, 1.0), row("half", 5, 0.5, 0.5, 0.5), row("none", 5, 0.0)]
    widths = [
        float(bar.get("width"))
        for bar in by_class(parse(bar_chart_svg(rows, title="t")), "chart-bar")
    ]
    assert widths[0] > 0
    assert widths[1] == round(widths[0] / 2, 1)
    assert widths[2] == 0


def test_labels_and_title_are_escaped():
    hostile = '<script>alert("x")</script>&'
    svg = bar_chart_svg([row(hostile, 3, 0.3, 0.1, 0.7)], title="a & <b>")
    assert "<script>" not in svg
    assert "<b>" not in svg
    root = parse(svg)  # escaping keeps the markup well-formed
    assert by_class(root, "chart-label")[0].text == hostile[:21] + "…"  # shortened, still escaped
    assert hostile in root.find(f"{SVG}g/{SVG}title").text  # full label in the row's tooltip
    assert root.find(f"{SVG}title").text == "a & <b>"


def test_rows_without_data_say_so_and_draw_no_bar():
    rows = [row("temperature 0.5", 0, None), row("temperature 1.0", 8, 0.75, 0.41, 0.93)]
    root = parse(bar_chart_svg(rows, title="By temperature"))
    assert len(by_class(root, "chart-bar")) == 1
    assert len(by_class(root, "chart-ci")) == 1
    assert [element.text for element in by_class(root, "chart-nodata")] == ["no data"]


def test_empty_chart_still_renders():
    root = parse(bar_chart_svg([], title="Nothing yet"))
    assert by_class(root, "chart-bar") == []
    assert by_class(root, "chart-nodata")[0].text == "no data yet"


def test_reference_line_is_optional_and_other_keys_can_be_charted():
    rows = [{"model": "char-7gram-kn", "guesses": 20, "fool_rate": 0.35, "ci_low": 0.18}]
    with_line = parse(
        bar_chart_svg(rows, title="Fool rate", value_key="fool_rate", label_key="model")
    )
    assert len(by_class(with_line, "chart-ref")) == 1
    assert len(by_class(with_line, "chart-bar")) == 1
    assert by_class(with_line, "chart-ci") == []  # half an interval is not drawn
    without_line = parse(bar_chart_svg(rows, title="t", value_key="fool_rate", reference=None))
    assert by_class(without_line, "chart-ref") == []


def test_values_outside_zero_one_are_clamped():
    rows = [row("odd", 1, 1.7, -0.2, 3.0)]
    root = parse(bar_chart_svg(rows, title="t", width=640))
    bar = by_class(root, "chart-bar")[0]
    assert float(bar.get("x")) + float(bar.get("width")) <= 640


def test_chart_uses_no_style_attributes_or_scripts():
    svg = bar_chart_svg([row("a", 1, 0.5, 0.1, 0.9), row("b", 0, None)], title="t")
    root = parse(svg)
    assert all(element.get("style") is None for element in root.iter())
    assert root.find(f".//{SVG}script") is None


def test_a_rooms_summary_gets_its_two_charts_and_a_room_in_play_none():
    summary = {"by_model": [row("char-7gram-kn", 4, 0.75)], "by_temperature": [row("1", 4, 0.75)]}
    ended = with_room_charts({"status": "ended", "summary": summary})
    assert set(ended["summary"]["charts"]) == {"by_model", "by_temperature"}
    assert "Class accuracy by model" in ended["summary"]["charts"]["by_model"]
    parse(ended["summary"]["charts"]["by_temperature"])  # valid SVG
    playing = {"status": "voting", "summary": None}
    assert with_room_charts(playing) == {"status": "voting", "summary": None}
