// The explorer: stream a sample over Server-Sent Events and show, at every step, the weighted die
// the model rolled (its top next-token probabilities).
"use strict";

(function () {
  const { el, showAlert, formatNumber, describeError } = window.RealOrRNN;

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("explore-form"),
    model: $("ex-model"),
    temperature: $("ex-temperature"),
    temperatureValue: $("ex-temperature-value"),
    topK: $("ex-top-k"),
    topP: $("ex-top-p"),
    prime: $("ex-prime"),
    length: $("ex-length"),
    seed: $("ex-seed"),
    errors: $("explore-errors"),
    generate: $("generate"),
    stop: $("stop"),
    output: $("sample-output"),
    status: $("sample-status"),
    progress: $("sample-progress"),
    summary: $("sample-summary"),
    die: $("die"),
    dieStep: $("die-step"),
  };

  const TOP = 5;
  const MAX_LENGTH = Number(ui.length.max) || 2000;
  let source = null; // the open EventSource
  let received = 0; // characters generated so far (after the prime)
  let steps = 0;
  let generated = null; // the text node the stream appends to

  /** Whitespace made visible, for a die face: "␣" for a space, "↵" for a new line. */
  function visibleToken(token) {
    if (token === "") return "∅";
    return token.replace(/ /g, "␣").replace(/\n/g, "↵").replace(/\t/g, "⇥");
  }

  // ---- validation -----------------------------------------------------------------------------

  /** The query parameters, or a list of problems (each [input, message]). */
  function readForm() {
    const problems = [];
    const params = new URLSearchParams();
    const number = (input) => (input.value.trim() === "" ? null : Number(input.value));

    if (!ui.model.value) problems.push([ui.model, "Choose a model."]);
    params.set("model", ui.model.value);

    const temperature = number(ui.temperature);
    if (temperature === null || !(temperature >= 0.1 && temperature <= 2.0)) {
      problems.push([ui.temperature, "Temperature must be between 0.1 and 2.0."]);
    }
    params.set("temperature", String(temperature));

    const length = number(ui.length);
    if (length === null || !Number.isInteger(length) || length < 1 || length > MAX_LENGTH) {
      problems.push([ui.length, `Length must be a whole number from 1 to ${MAX_LENGTH}.`]);
    }
    params.set("length", String(length));
    params.set("prime", ui.prime.value);
    params.set("top", String(TOP));

    const seed = number(ui.seed);
    if (seed !== null) {
      if (!/^\d{1,18}$/.test(ui.seed.value.trim()))
        problems.push([ui.seed, "The seed must be a whole number, 0 or more (at most 18 digits)."]);
      params.set("seed", ui.seed.value.trim()); // as typed: a Number would round a long seed
    }
    const topK = number(ui.topK);
    if (topK !== null) {
      if (!Number.isInteger(topK) || topK < 1)
        problems.push([ui.topK, "Top-k must be a whole number, 1 or more."]);
      params.set("top_k", String(topK));
    }
    const topP = number(ui.topP);
    if (topP !== null) {
      if (!(topP > 0 && topP <= 1))
        problems.push([ui.topP, "Top-p must be above 0 and at most 1."]);
      params.set("top_p", String(topP));
    }
    // A number field holding something that is not a number reads as "" in the DOM.
    for (const input of [ui.topK, ui.topP, ui.seed, ui.length]) {
      if (input.validity && input.validity.badInput)
        problems.push([input, `${labelOf(input)}: not a number.`]);
    }
    return { params, problems };
  }

  function labelOf(input) {
    const label = document.querySelector(`label[for="${input.id}"]`);
    return label ? label.firstChild.textContent.trim() : input.name;
  }

  function markProblems(problems) {
    for (const input of ui.form.querySelectorAll("[aria-invalid]"))
      input.removeAttribute("aria-invalid");
    for (const [input] of problems) input.setAttribute("aria-invalid", "true");
    showAlert(ui.errors, problems.map(([, message]) => message).join(" "));
    if (problems.length) problems[0][0].focus();
  }

  // ---- streaming ------------------------------------------------------------------------------

  function start(event) {
    event.preventDefault();
    const { params, problems } = readForm();
    markProblems(problems);
    if (problems.length) return;

    stop(null);
    received = 0;
    steps = 0;
    const prime = el("span", { className: "prime", title: "the prime" });
    generated = document.createTextNode("");
    ui.output.replaceChildren(
      prime,
      generated,
      el("span", { className: "cursor", "aria-hidden": "true" }),
    );
    ui.summary.hidden = true;
    ui.summary.replaceChildren();
    ui.die.replaceChildren();
    ui.dieStep.textContent = "Rolling…";
    ui.progress.textContent = "";
    setStatus("Writing…");
    setStreaming(true);

    const url = `/api/samples/stream?${params.toString()}`;
    const length = Number(params.get("length"));
    source = new EventSource(url);
    source.onmessage = (message) => {
      const data = parse(message.data);
      if (!data) return;
      const text = String(data.text ?? "");
      const top = Array.isArray(data.top) ? data.top : [];
      if (top.length === 0 && steps === 0 && received === 0) {
        prime.textContent += text; // the prime comes first, with no die
      } else {
        steps += 1;
        received += text.length;
        generated.appendData(text);
        renderDie(top, text);
      }
      ui.progress.textContent = `${Math.min(received, length)} of ${length} characters`;
    };
    source.addEventListener("done", (message) => {
      const data = parse(message.data) || {};
      finish(data);
    });
    source.addEventListener("error", (message) => {
      // Either the server's own "error" event (with data) or a broken connection (without).
      if (message && typeof message.data === "string" && message.data) {
        const data = parse(message.data) || {};
        fail(
          typeof data.detail === "string" ? data.detail : "The model could not write this sample.",
        );
      } else if (source && steps === 0 && received === 0) {
        fail(null);
        explainRefusal(url);
      } else {
        fail("The connection was lost before the sample was finished.");
      }
    });
  }

  function parse(text) {
    try {
      return JSON.parse(text);
    } catch (notJson) {
      return null;
    }
  }

  function finish(data) {
    closeSource();
    setStreaming(false);
    ui.output.querySelector(".cursor")?.remove();
    const rows = [];
    if (data.model) rows.push(["Model", data.model]);
    if (data.seed !== undefined && data.seed !== null)
      rows.push(["Seed", `${data.seed} (the same seed and settings give the same text)`]);
    const span = data.longest_copied_span;
    if (span && typeof span === "object" && typeof span.length === "number") {
      rows.push(["Longest span copied from the training plays", `${span.length} characters`]);
    }
    ui.summary.replaceChildren(
      ...rows.map(([term, value]) =>
        el("div", {}, el("dt", { text: term }), el("dd", { text: value })),
      ),
    );
    if (span && span.text) {
      ui.summary.append(
        el(
          "div",
          {},
          el("dt", { text: "Copied span" }),
          el("dd", {}, el("span", { className: "copied", text: span.text })),
        ),
      );
    }
    ui.summary.hidden = rows.length === 0;
    setStatus(`Done: ${received} characters in ${steps} steps.`);
  }

  function fail(message) {
    closeSource();
    setStreaming(false);
    ui.output.querySelector(".cursor")?.remove();
    if (message) {
      showAlert(ui.errors, message);
      setStatus("Stopped by an error.");
    }
  }

  /** The stream was refused before it began: ask again with fetch to read the server's reason. */
  async function explainRefusal(url) {
    setStatus("The sample could not start.");
    const controller = new AbortController();
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        signal: controller.signal,
      });
      const type = response.headers.get("Content-Type") || "";
      if (!response.ok && type.includes("json")) {
        const body = await response.json();
        showAlert(ui.errors, describeError(response.status, body));
      } else {
        showAlert(ui.errors, "The sample could not start; check the settings and try again.");
      }
    } catch (unreachable) {
      showAlert(ui.errors, "Could not reach the server. Check the connection and try again.");
    } finally {
      controller.abort(); // never read a stream that did start after all
    }
  }

  function renderDie(top, rolled) {
    const faces = top.slice(0, TOP).map((face) => {
      const token = String(face.token ?? "");
      const p = Math.min(Math.max(Number(face.p) || 0, 0), 1);
      const fill = el("span", { className: "fill" });
      fill.style.width = `${(p * 100).toFixed(1)}%`; // CSSOM, allowed by the CSP
      const chosen = token === rolled;
      return el(
        "li",
        { className: chosen ? "is-chosen" : null },
        el("span", { className: "token", title: JSON.stringify(token) }, visibleToken(token)),
        el("span", { className: "track", "aria-hidden": "true" }, fill),
        el("span", { className: "prob", text: `${formatNumber(p * 100, 1)}%` }),
      );
    });
    ui.die.replaceChildren(...faces);
    const inTop = top.some((face) => String(face.token ?? "") === rolled);
    ui.dieStep.textContent = `Step ${steps}: rolled “${visibleToken(rolled)}”${inTop ? "" : ` (outside the top ${TOP})`}.`;
  }

  function stop(event) {
    if (!source) return;
    closeSource();
    setStreaming(false);
    ui.output.querySelector(".cursor")?.remove();
    if (event) setStatus(`Stopped after ${received} characters.`);
  }

  function closeSource() {
    if (source) {
      source.close();
      source = null;
    }
  }

  function setStreaming(streaming) {
    ui.generate.disabled = streaming;
    ui.stop.disabled = !streaming;
    ui.output.setAttribute("aria-busy", streaming ? "true" : "false");
  }

  function setStatus(text) {
    ui.status.textContent = text;
    if (!ui.generate.disabled) ui.progress.textContent = "";
  }

  ui.temperature.addEventListener("input", () => {
    ui.temperatureValue.textContent = Number(ui.temperature.value).toFixed(1);
  });
  ui.form.addEventListener("submit", start);
  ui.stop.addEventListener("click", stop);
  window.addEventListener("pagehide", closeSource);
})();
