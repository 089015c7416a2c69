// The reveal of a passage, shared by the game (play.js) and classroom mode (classroom-host.js,
// classroom-join.js): where it came from (the attribution), its verdict badge and the surprisal
// heatmap. Loaded after common.js. No innerHTML: server text goes in through textContent.
"use strict";

window.RealOrRNNReveal = (function () {
  const { el, formatNumber } = window.RealOrRNN;
  const KIND_NAMES = { rnn: "RNN", ngram: "n-gram" };

  // ---- attribution ----------------------------------------------------------------------------

  /** The source of a revealed passage (a play's scene, or the model and its sampling settings),
   *  with the mean surprisal when there is a heatmap: a list of nodes. */
  function describeSource(source, surprisal) {
    const rows = [];
    if (source.kind === "real") {
      const where =
        source.scene_label ||
        [source.act && `Act ${source.act}`, source.scene && `Scene ${source.scene}`]
          .filter(Boolean)
          .join(", ");
      const lines = source.first_line ? `lines ${source.first_line}–${source.last_line}` : "";
      rows.push(
        el(
          "p",
          { className: "source-title" },
          el("cite", { text: source.play || "Shakespeare" }),
          where ? `, ${where}` : "",
          lines ? ` (${lines})` : "",
        ),
      );
      if (Array.isArray(source.speakers) && source.speakers.length) {
        rows.push(detailList([["Speakers", source.speakers.join(", ")]]));
      }
    } else if (source.kind === "generated") {
      const kind = KIND_NAMES[source.model_kind] || source.model_kind;
      rows.push(
        el(
          "p",
          { className: "source-title" },
          "Written by ",
          el("code", { text: source.model || "a model" }),
          kind ? ` (${kind}${source.unit ? `, ${source.unit} level` : ""})` : "",
        ),
      );
      const details = [["Temperature", formatNumber(source.temperature, 2)]];
      details.push(["Top-k", source.top_k == null ? "off" : String(source.top_k)]);
      details.push(["Top-p", source.top_p == null ? "off" : formatNumber(source.top_p, 2)]);
      if (source.seed != null) details.push(["Seed", String(source.seed)]);
      if (source.prime) details.push(["Prime", visibleWhitespace(String(source.prime))]);
      if (source.longest_copied_span != null) {
        details.push([
          "Longest copied span",
          `${source.longest_copied_span} characters of the training plays`,
        ]);
      }
      rows.push(detailList(details));
    }
    if (surprisal && typeof surprisal.mean_bits === "number") {
      rows.push(
        el(
          "p",
          { className: "surprisal-mean" },
          "Mean surprisal under ",
          el("code", { text: surprisal.model || "the model" }),
          `: ${formatNumber(surprisal.mean_bits, 2)} bits per character`,
        ),
      );
    }
    return rows;
  }

  function detailList(pairs) {
    return el(
      "dl",
      { className: "details" },
      pairs.map(([term, value]) =>
        el("div", {}, el("dt", { text: term }), el("dd", { text: value })),
      ),
    );
  }

  function visibleWhitespace(text) {
    return text.replace(/\n/g, "↵").replace(/ /g, "␣");
  }

  // ---- verdict --------------------------------------------------------------------------------

  /** The verdict badge of a revealed passage: the children of its `.verdict`. */
  function verdict(isReal) {
    return [
      el("span", { className: "verdict-icon", "aria-hidden": "true", text: isReal ? "✓" : "⚙" }),
      isReal ? " Real Shakespeare" : " Generated",
    ];
  }

  // ---- heatmap --------------------------------------------------------------------------------

  // One span per character, shaded by min(bits / 10, 1) in 11 steps (heat-0 is unshaded, as the
  // legend's swatches heat-0 … heat-10), as GLTR does; the plain text stays available to screen
  // readers, which would spell the spans out.
  function renderHeatmap(container, text, surprisal) {
    const characters = Array.from(text); // code points, as the server counts them
    const bits = surprisal.bits;
    const heat = el("span", { className: "heatmap", "aria-hidden": "true" });
    characters.forEach((character, index) => {
      const value = Number(bits[index]);
      if (!Number.isFinite(value)) {
        heat.append(document.createTextNode(character));
        return;
      }
      const level = Math.round(Math.min(Math.max(value, 0) / 10, 1) * 10);
      const label = character === "\n" ? "newline" : character === " " ? "space" : character;
      heat.append(
        el("span", {
          className: `heat-${level}`,
          title: `${label}: ${value.toFixed(1)} bits`,
          text: character,
        }),
      );
    });
    container.replaceChildren(el("span", { className: "visually-hidden", text }), heat);
    container.classList.add("has-heatmap");
  }

  // ---- a passage's card -----------------------------------------------------------------------

  /** Reveals a passage's card (an `article` with a `.verdict`, a hidden `.attribution` and a
   *  `.passage-text` holding `text`): is-real / is-generated, the verdict badge, the attribution
   *  and, where the server sent per-character surprisal, the heatmap. `info` is one of the
   *  reveal's passages ({real, source, surprisal}). */
  function revealPassage(article, info, text) {
    const isReal = Boolean(info.real);
    article.classList.add(isReal ? "is-real" : "is-generated");
    article.querySelector(".verdict").replaceChildren(...verdict(isReal));
    const attribution = article.querySelector(".attribution");
    attribution.replaceChildren(...describeSource(info.source || {}, info.surprisal));
    attribution.hidden = false;
    if (info.surprisal && Array.isArray(info.surprisal.bits)) {
      renderHeatmap(article.querySelector(".passage-text"), text, info.surprisal);
    }
  }

  /** The machine judge's verdict on the round ("The machine judge thought passage 2 was real
   *  (81% sure)."), or nothing when the passage was never judged. */
  function showJudge(paragraph, judge) {
    if (!paragraph) return;
    const said = judge && typeof judge.says === "string" ? judge.says : "";
    paragraph.textContent = said
      ? `${said} ${judge.correct ? "It was right." : "It was wrong."}`
      : "";
    paragraph.hidden = !said;
  }

  return { describeSource, verdict, renderHeatmap, revealPassage, showJudge };
})();
