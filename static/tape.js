// Under the hood: play the lecture's tape (GET /api/tape) step by step. Forward steps show the
// values a module reads and writes, backward steps the gradients it receives and sends back.
// Numbers become small heat-coloured grids; every piece of data goes in through textContent.
"use strict";

(function () {
  const { el, api, showAlert, keyBelongsToControl } = window.RealOrRNN;

  const $ = (id) => document.getElementById(id);
  const ui = {
    form: $("tape-form"),
    text: $("tape-text"),
    hidden: $("tape-hidden"),
    seed: $("tape-seed"),
    run: $("tape-run"),
    errors: $("tape-errors"),
    status: $("tape-status"),
    player: $("tape-player"),
    prev: $("tape-prev"),
    play: $("tape-play"),
    next: $("tape-next"),
    speed: $("tape-speed"),
    scrub: $("tape-scrub"),
    position: $("tape-position"),
    step: $("tape-step"),
    phase: $("tape-phase"),
    time: $("tape-time"),
    module: $("tape-module"),
    description: $("tape-description"),
    explanation: $("tape-explanation"),
    flow: $("tape-flow"),
    parameters: $("tape-parameters"),
    list: $("tape-list"),
    summary: $("tape-summary"),
    gradients: $("tape-gradients"),
    equations: Array.from(document.querySelectorAll("[data-equation]")),
  };

  const HEAT_LEVELS = 5; // tape-heat-pos-1 .. -5 and tape-heat-neg-1 .. -5 in app.css
  let run = null; // the reply of /api/tape
  let current = 0; // index of the step shown
  let nodes = []; // the tape list's buttons, by record
  let stepOf = { forward: [], backward: [] }; // record -> index of its step in each phase
  let timer = null; // the pending "next step" while playing

  // ---- the form ------------------------------------------------------------------------------

  /** The query, or a list of problems (each [input, message]). Mirrors the API's ranges. */
  function readForm() {
    const problems = [];
    const text = ui.text.value;
    const length = Array.from(text).length;
    const [minText, maxText] = [Number(ui.text.minLength), Number(ui.text.maxLength)];
    if (length < minText || length > maxText) {
      problems.push([ui.text, `The text must have ${minText} to ${maxText} characters.`]);
    } else if (/[\p{C}]/u.test(text)) {
      problems.push([ui.text, "The text may hold only printable characters."]);
    }
    const integer = (input, what) => {
      const value = Number(input.value);
      const [min, max] = [Number(input.min), Number(input.max)];
      if (input.value.trim() === "" || !Number.isInteger(value) || value < min || value > max) {
        problems.push([input, `${what} must be a whole number from ${min} to ${max}.`]);
      }
      return value;
    };
    const hidden = integer(ui.hidden, "Hidden units");
    const seed = integer(ui.seed, "The seed");
    const params = new URLSearchParams({ text, hidden: String(hidden), seed: String(seed) });
    return { params, problems };
  }

  function markInvalid(problems) {
    for (const input of [ui.text, ui.hidden, ui.seed]) input.removeAttribute("aria-invalid");
    for (const [input] of problems) input.setAttribute("aria-invalid", "true");
  }

  async function load(params) {
    stop();
    ui.run.disabled = true;
    ui.status.textContent = "Running the model forward and backward…";
    try {
      const reply = await api("GET", `/api/tape?${params}`);
      showAlert(ui.errors, "");
      setUp(reply);
      history.replaceState(null, "", `/tape?${params}`);
      ui.status.textContent = `${reply.steps.length} steps on the tape for “${reply.text}”.`;
    } catch (error) {
      showAlert(ui.errors, error.message);
      ui.status.textContent = "";
    } finally {
      ui.run.disabled = false;
    }
  }

  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const { params, problems } = readForm();
    markInvalid(problems);
    if (problems.length) {
      showAlert(ui.errors, problems.map(([, message]) => message).join(" "));
      problems[0][0].focus();
      return;
    }
    load(params);
  });

  // ---- number grids --------------------------------------------------------------------------

  /** A character made visible in a label: "␣" for a space. */
  function visible(character) {
    return character === " " ? "␣" : character;
  }

  function shapeText(shape) {
    return shape.length ? shape.join(" × ") : "scalar";
  }

  function heatClass(value, scale) {
    if (!value || !scale) return "tape-heat-0";
    const level = Math.min(HEAT_LEVELS, Math.ceil((Math.abs(value) / scale) * HEAT_LEVELS));
    return `tape-heat-${value > 0 ? "pos" : "neg"}-${level}`;
  }

  function cellText(value) {
    return Number.isInteger(value) ? String(value) : value.toFixed(3); // a one-hot stays 0 and 1
  }

  /** A table of numbers: a scalar, a vector (one row) or a matrix, coloured by size and sign.
   *  Axes counting characters get the vocabulary as labels; `highlight` outlines a character. */
  function grid(values, axes, highlight) {
    const matrix = Array.isArray(values) ? (Array.isArray(values[0]) ? values : [values]) : [[values]];
    const scale = Math.max(0, ...matrix.flat().map(Math.abs));
    const rowAxis = axes.length === 2 ? axes[0] : null;
    const columnAxis = axes.length ? axes[axes.length - 1] : null;
    const table = el("table", { className: "tape-grid" });
    if (columnAxis === "vocab") {
      const head = el("tr", {}, rowAxis === "vocab" ? el("th", { scope: "col" }) : null);
      if (rowAxis === "hidden") head.append(el("th", { scope: "col" }));
      run.vocabulary.forEach((character, column) => {
        const cell = el("th", { scope: "col", text: visible(character) });
        if (column === highlight) cell.classList.add("is-marked");
        head.append(cell);
      });
      table.append(el("thead", {}, head));
    }
    const body = el("tbody");
    matrix.forEach((row, rowIndex) => {
      const tr = el("tr");
      if (rowAxis === "vocab") {
        tr.append(el("th", { scope: "row", text: visible(run.vocabulary[rowIndex]) }));
      } else if (rowAxis === "hidden" && columnAxis === "vocab") {
        tr.append(el("th", { scope: "row", className: "tape-index", text: String(rowIndex) }));
      }
      row.forEach((value, column) => {
        const cell = el("td", { className: heatClass(value, scale), text: cellText(value) });
        cell.title = String(value);
        if (columnAxis === "vocab" && column === highlight) cell.classList.add("is-marked");
        tr.append(cell);
      });
      body.append(tr);
    });
    table.append(body);
    return table;
  }

  /** A named array ({name, shape, values, axes, highlight}) with its caption. */
  function figure(view, note) {
    return el(
      "figure",
      { className: "tape-array" },
      el(
        "figcaption",
        {},
        el("span", { className: "tape-array-name", text: view.name }),
        " ",
        el("span", { className: "tape-array-shape", text: `(${shapeText(view.shape)})` }),
        note ? el("span", { className: "tape-array-note", text: ` ${note}` }) : null,
      ),
      el("div", { className: "tape-grid-wrap" }, grid(view.values, view.axes, view.highlight)),
    );
  }

  function group(title, figures, emptyText) {
    return el(
      "div",
      { className: "tape-group" },
      el("h4", { className: "tape-group-title", text: title }),
      figures.length ? figures : el("p", { className: "hint", text: emptyText }),
    );
  }

  // ---- one step ------------------------------------------------------------------------------

  function timeText(time) {
    if (time === null) return "after the last step";
    const step = run.time_steps[time - 1];
    return `t = ${time}: reads '${visible(step.input)}', predicts '${visible(step.target)}'`;
  }

  /** The one-hot x_t an Embedding stands for (the API sends only its column of W_xh). */
  function oneHot(step) {
    const table = step.parameters[0];
    if (!table || table.highlight === null) return null;
    const values = run.vocabulary.map((_, index) => (index === table.highlight ? 1 : 0));
    const name = `x_${step.time}`;
    return { name, shape: [values.length], values, axes: ["vocab"], highlight: table.highlight };
  }

  function flow(step) {
    const forward = step.phase === "forward";
    const inputs = step.inputs.flatMap((view) => {
      const shown = [figure(view, forward || view.total === null ? "" : "this use's share")];
      if (!forward && view.total !== null && view.total !== undefined) {
        const total = { ...view, values: view.total, name: `${view.name} so far` };
        shown.push(figure(total, "summed over its uses replayed so far"));
      }
      return shown;
    });
    const isEmbedding = step.module.startsWith("Embedding");
    if (forward && isEmbedding) {
      const x = oneHot(step);
      if (x) inputs.push(figure(x, "one-hot: a constant, not an array on the tape"));
    }
    const output = [figure(step.output)];
    const arrow = el("div", { className: "tape-arrow", "aria-hidden": "true", text: "↓" });
    if (forward) return [group("Reads", inputs, "Nothing."), arrow, group("Writes", output, "")];
    const nothing = "Nothing to send back: the input is a constant token.";
    return [group("Gradient arriving", output, ""), arrow, group("Gradients sent back", inputs, nothing)];
  }

  function show(index) {
    if (!run) return;
    current = Math.max(0, Math.min(run.steps.length - 1, index));
    const step = run.steps[current];
    const forward = step.phase === "forward";
    ui.step.classList.toggle("is-forward", forward);
    ui.step.classList.toggle("is-backward", !forward);
    ui.phase.textContent = forward ? "Forward" : "Backward";
    ui.time.textContent = timeText(step.time);
    ui.module.textContent = step.module;
    ui.description.textContent = step.description;
    ui.explanation.textContent = step.explanation;
    ui.flow.replaceChildren(...flow(step));
    const parameterTitle = forward ? "Parameters it reads" : "Parameter gradients so far (+=)";
    ui.parameters.replaceChildren(
      ...(step.parameters.length
        ? [group(parameterTitle, step.parameters.map((view) => figure(view)), "")]
        : []),
    );

    ui.position.textContent = `Step ${current + 1} of ${run.steps.length} (${step.phase})`;
    ui.scrub.value = String(current + 1);
    ui.prev.disabled = current === 0;
    ui.next.disabled = current === run.steps.length - 1;
    for (const item of ui.equations) {
      item.classList.toggle("is-current", Number(item.dataset.equation) === step.equation);
      item.classList.toggle("is-backward", !forward);
    }
    markTape(step);
  }

  // ---- the tape list -------------------------------------------------------------------------

  function buildTape() {
    stepOf = { forward: [], backward: [] };
    for (const step of run.steps) stepOf[step.phase][step.record] = step.index;
    nodes = [];
    const rows = new Map(); // time (or "mean") -> the row's list
    for (const step of run.steps.filter((s) => s.phase === "forward")) {
      const key = step.time === null ? "end" : step.time;
      if (!rows.has(key)) {
        const label = step.time === null ? "loss" : `t = ${step.time}`;
        const chain = el("ol", { className: "tape-chain" });
        ui.list.append(
          el("li", { className: "tape-row" }, el("span", { className: "tape-row-label", text: label }), chain),
        );
        rows.set(key, chain);
      }
      const button = el(
        "button",
        { type: "button", className: "tape-node", dataset: { record: String(step.record) } },
        el("span", { className: "tape-node-module", text: step.module }),
        el("span", { className: "tape-node-output", text: `→ ${step.output.name}` }),
      );
      nodes[step.record] = button;
      rows.get(key).append(el("li", {}, button));
    }
  }

  ui.list.addEventListener("click", (event) => {
    const button = event.target instanceof Element ? event.target.closest(".tape-node") : null;
    if (!button || !run) return;
    stop();
    const record = Number(button.dataset.record);
    const phase = run.steps[current].phase;
    show(stepOf[phase][record]);
  });

  function markTape(step) {
    nodes.forEach((node, record) => {
      node.classList.toggle("is-forward-done", stepOf.forward[record] < current);
      node.classList.toggle("is-backward-done", stepOf.backward[record] < current);
      const isCurrent = record === step.record;
      node.classList.toggle("is-current", isCurrent);
      node.classList.toggle("is-backward", isCurrent && step.phase === "backward");
      if (isCurrent) node.setAttribute("aria-current", "step");
      else node.removeAttribute("aria-current");
    });
    const node = nodes[step.record];
    if (node) keepInView(ui.list, node);
  }

  /** Scroll a scrollable list (only it, not the page) so that `node` is visible. */
  function keepInView(container, node) {
    const box = container.getBoundingClientRect();
    const item = node.getBoundingClientRect();
    if (item.top < box.top) container.scrollTop -= box.top - item.top + 8;
    else if (item.bottom > box.bottom) container.scrollTop += item.bottom - box.bottom + 8;
  }

  // ---- the result ----------------------------------------------------------------------------

  function buildResult() {
    const facts = [
      ["Loss L (mean cross-entropy, nats)", run.loss.toFixed(4)],
      ["Perplexity e^L", run.perplexity.toFixed(4)],
      ["Vocabulary (V)", run.vocabulary.map(visible).join(" ")],
      ["Hidden units (H)", String(run.hidden_size)],
      ["Predictions (T)", String(run.time_steps.length)],
    ];
    ui.summary.replaceChildren(
      ...facts.map(([term, value]) => el("div", {}, el("dt", { text: term }), el("dd", { text: value }))),
    );
    const axes = { W_xh: ["hidden", "vocab"], W_hh: ["hidden", "hidden"], b_h: ["hidden"] };
    Object.assign(axes, { W_hy: ["vocab", "hidden"], b_y: ["vocab"] });
    ui.gradients.replaceChildren(
      ...Object.entries(run.gradients).map(([name, values]) => {
        const shape = Array.isArray(values[0]) ? [values.length, values[0].length] : [values.length];
        return figure({ name: `dL/d${name}`, shape, values, axes: axes[name] || [], highlight: null });
      }),
    );
  }

  function setUp(reply) {
    run = reply;
    ui.list.replaceChildren();
    buildTape();
    buildResult();
    ui.scrub.max = String(run.steps.length);
    ui.player.hidden = false;
    show(0);
  }

  // ---- playing -------------------------------------------------------------------------------

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    ui.play.textContent = "Play";
    ui.play.setAttribute("aria-pressed", "false");
  }

  function tick() {
    if (current >= run.steps.length - 1) {
      stop();
      return;
    }
    show(current + 1);
    timer = setTimeout(tick, Number(ui.speed.value) || 1200);
  }

  function togglePlay() {
    if (!run) return;
    if (timer !== null) {
      stop();
      return;
    }
    if (current >= run.steps.length - 1) show(0); // from the start again
    ui.play.textContent = "Pause";
    ui.play.setAttribute("aria-pressed", "true");
    timer = setTimeout(tick, Number(ui.speed.value) || 1200);
  }

  ui.play.addEventListener("click", togglePlay);
  ui.prev.addEventListener("click", () => {
    stop();
    show(current - 1);
  });
  ui.next.addEventListener("click", () => {
    stop();
    show(current + 1);
  });
  ui.scrub.addEventListener("input", () => {
    stop();
    show(Number(ui.scrub.value) - 1);
  });

  document.addEventListener("keydown", (event) => {
    if (!run || ui.player.hidden || event.altKey || event.ctrlKey || event.metaKey) return;
    if (keyBelongsToControl(event.target, event.key)) return;
    const onButton = event.target instanceof Element && event.target.closest("button, a");
    const actions = {
      ArrowRight: () => (stop(), show(current + 1)),
      ArrowLeft: () => (stop(), show(current - 1)),
      Home: () => (stop(), show(0)),
      End: () => (stop(), show(run.steps.length - 1)),
      " ": onButton ? null : togglePlay, // on a button, Space presses that button
    };
    const action = actions[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // ---- start: the form's values from the address, then run ----------------------------------

  const query = new URLSearchParams(window.location.search);
  if (query.has("text")) ui.text.value = query.get("text");
  if (query.has("hidden")) ui.hidden.value = query.get("hidden");
  if (query.has("seed")) ui.seed.value = query.get("seed");
  const { params, problems } = readForm();
  markInvalid(problems);
  if (problems.length) showAlert(ui.errors, problems.map(([, message]) => message).join(" "));
  else load(params);
})();
