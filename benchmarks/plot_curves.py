"""Plot the learning curve of each RNN checkpoint (NAME.curve.json -> docs/curves/NAME.png).

    python benchmarks/plot_curves.py                     # every *.curve.json in models/
    python benchmarks/plot_curves.py path/to/x.curve.json ...

Needs matplotlib (`pip install -e '.[plots]'`); the product itself does not.
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def plot(curve_path: Path, out_dir: Path) -> Path:
    curve = json.loads(curve_path.read_text())
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    train, val = curve.get("train", []), curve.get("val", [])
    if train:
        ax.plot([p["step"] for p in train], [p["bits_per_char"] for p in train], label="train loss")
    if val:
        ax.plot(
            [p["step"] for p in val],
            [p["val_bits_per_char"] for p in val],
            marker="o",
            markersize=3,
            label="validation",
        )
    figures = curve.get("figures", {})
    title = curve.get("name", curve_path.stem)
    if "test_bits_per_char" in figures:
        title += f" (test {figures['test_bits_per_char']:.3f} bits/char)"
    ax.set(title=title, xlabel="step", ylabel="bits per character")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / (curve_path.name.removesuffix(".curve.json") + ".png")
    fig.savefig(out)
    plt.close(fig)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("curves", nargs="*", type=Path, help="curve JSON files (default: models/)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs" / "curves")
    args = parser.parse_args()
    for path in args.curves or sorted((ROOT / "models").glob("*.curve.json")):
        print(plot(path, args.out_dir))


if __name__ == "__main__":
    main()
