"""app/game/export.py: the export of every guess, as CSV and JSON."""

import csv
import io

from app.game.export import EXPORT_COLUMNS


def test_the_csv_export_has_the_documented_columns_and_is_formula_safe(played):
    response = played.get("/api/export/guesses.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 5
    assert list(rows[0]) == list(EXPORT_COLUMNS)
    assert sum(row["correct"] == "true" for row in rows) == 3
    assert all(row["player"] == "'=cmd|calc" for row in rows)  # no formula in a spreadsheet


def test_the_json_export_matches_the_csv(played):
    body = played.get("/api/export/guesses.json").json()
    assert body["columns"] == EXPORT_COLUMNS
    assert len(body["guesses"]) == 5
    assert [g["correct"] for g in body["guesses"]].count(True) == 3
    assert {g["mode"] for g in body["guesses"]} == {"pair", "single"}
