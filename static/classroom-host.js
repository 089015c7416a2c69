// Classroom mode, the lecturer's side: the "new room" form (/classroom) and the projector view
// (/classroom/{code}). The pieces both sides of a room need (following the room live, the
// countdown, the class's split, the end-of-session summary) are at the top as
// window.RealOrRNNRoom; the students' page (join.html) loads this file for them, then
// classroom-join.js. The attribution, verdict and heatmap of a reveal are reveal.js's, shared
// with the game.
// No innerHTML: server text goes in through textContent; the summary charts are server-made SVG,
// parsed as XML and imported as nodes.
"use strict";

window.RealOrRNNRoom = (function () {
  const { el, ApiError, request } = window.RealOrRNN;

  // ---- following a room live --------------------------------------------------------------------

  /** GET /api/rooms/{code}, with the server's clock (the Date header) for the countdown. */
  async function getState(code) {
    const url = `/api/rooms/${encodeURIComponent(code)}`;
    const { body, response } = await request("GET", url, undefined, { cache: "no-store" });
    if (typeof body !== "object") {
      throw new ApiError(response.status, "The server sent an unreadable reply.");
    }
    const serverDate = Date.parse(response.headers.get("Date") || "");
    return { state: body, serverNow: Number.isFinite(serverDate) ? serverDate : null };
  }

  /** What a player's "you" becomes when the public state moves on, before the GET that confirms
   *  it comes back: a new round clears the vote; a reveal settles it (the server counts a vote
   *  into the score and the number of votes only at the reveal). */
  function deriveYou(you, before, after) {
    if (!you || you.role !== "player") return you;
    const oldRound = before && before.round;
    const newRound = after.round;
    if (!newRound || !oldRound || newRound.round_id !== oldRound.round_id) {
      return { ...you, vote: null, correct: null };
    }
    if (newRound.reveal && !oldRound.reveal && (you.vote === 0 || you.vote === 1)) {
      const correct = you.vote === newRound.reveal.answer;
      return {
        ...you,
        correct,
        score: (you.score || 0) + (correct ? 1 : 0),
        votes: (you.votes || 0) + 1,
      };
    }
    return you;
  }

  /**
   * Follows a room: one GET (the state with "you"), then the server-sent events (the public
   * state on every change). EventSource reconnects by itself; on each reconnect, when the page
   * becomes visible again (a phone waking up) and when the network comes back, the state is
   * fetched again so nothing missed in between is lost. States never go back in version.
   *   onState(state): the state with "you" (kept from the last GET, updated as the room moves)
   *   onConnection("live" | "reconnecting" | "offline")
   *   onGone(error): the room does not exist (404); onError(error): any other refusal
   */
  function follow(code, { onState, onConnection, onGone, onError }) {
    const eventsUrl = `/api/rooms/${encodeURIComponent(code)}/events`;
    let current = null;
    let you = null;
    let source = null;
    let everOpen = false;
    let retryTimer = null;
    let retryDelay = 1000;
    let stopped = false;
    let clockOffset = 0; // server time minus this device's time, in ms
    let fetchSerial = 0;

    function deliver(state, freshYou) {
      if (!state || typeof state !== "object") return;
      const version = Number(state.version) || 0;
      if (current && version < current.version) return; // an older answer, overtaken
      if (current && version === current.version && !freshYou) return; // nothing new
      const changedRound =
        current &&
        (state.status !== current.status ||
          (state.round && state.round.round_id) !== (current.round && current.round.round_id));
      if (freshYou) you = state.you === undefined ? null : state.you;
      else if (current) you = deriveYou(you, current, state);
      current = { ...state, version, you };
      onState(current);
      if (!freshYou && changedRound && you && you.role === "player") refresh(); // confirm "you"
      if (state.status === "ended") close();
    }

    async function refresh() {
      const serial = ++fetchSerial;
      try {
        const { state, serverNow } = await getState(code);
        if (serverNow !== null) clockOffset = serverNow - Date.now();
        if (onConnection && source && source.readyState === EventSource.OPEN) onConnection("live");
        if (serial !== fetchSerial && current && state.version <= current.version) return;
        deliver(state, true);
      } catch (error) {
        if (error.status === 404) {
          stop();
          if (onGone) onGone(error);
        } else if (error.status === 0) {
          if (onConnection) onConnection("offline");
        } else if (onError) {
          onError(error);
        }
      }
    }

    function open() {
      if (stopped || (current && current.status === "ended")) return;
      if (source && source.readyState !== EventSource.CLOSED) return;
      clearTimeout(retryTimer);
      source = new EventSource(eventsUrl, { withCredentials: true });
      source.addEventListener("state", (event) => {
        let state;
        try {
          state = JSON.parse(event.data);
        } catch (unreadable) {
          return;
        }
        deliver(state, false);
      });
      source.addEventListener("open", () => {
        retryDelay = 1000;
        if (onConnection) onConnection("live");
        if (everOpen) refresh(); // a reconnect: catch up, "you" included
        everOpen = true;
      });
      source.addEventListener("error", () => {
        if (stopped) return;
        if (onConnection) onConnection(navigator.onLine === false ? "offline" : "reconnecting");
        if (source.readyState === EventSource.CLOSED) {
          // The browser gave up (an HTTP error): try again ourselves, more slowly each time.
          retryTimer = setTimeout(open, retryDelay);
          retryDelay = Math.min(retryDelay * 2, 30000);
        }
      });
    }

    function close() {
      clearTimeout(retryTimer);
      if (source) source.close();
      source = null;
    }

    function stop() {
      stopped = true;
      close();
    }

    function wake() {
      if (stopped || document.visibilityState === "hidden") return;
      refresh();
      if (!source || source.readyState === EventSource.CLOSED) open();
    }

    document.addEventListener("visibilitychange", wake);
    window.addEventListener("online", wake);
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) wake(); // back from the back-forward cache
    });

    refresh().then(open);

    return {
      refresh,
      /** Server time now (ms since the epoch), as well as this device's clock allows. */
      serverNow: () => Date.now() + clockOffset,
      /** After a vote the server accepted: remember it before the GET says so. */
      noteVote(choice) {
        if (you && you.role === "player") {
          you = { ...you, vote: choice };
          if (current) {
            current = { ...current, you };
            onState(current);
          }
        }
      },
      get state() {
        return current;
      },
    };
  }

  // ---- countdown --------------------------------------------------------------------------------

  /** Ticks a round's deadline down in `node` ("0:27"); onExpire runs once when it reaches zero. */
  function countdown(node, round, serverNow, onExpire) {
    const deadline = Date.parse(round && round.deadline);
    if (!Number.isFinite(deadline)) {
      node.hidden = true;
      node.textContent = "";
      return () => {};
    }
    const started = Date.parse(round.started_at);
    const longest = Number.isFinite(started) ? deadline - started : Infinity;
    let expired = false;
    node.hidden = false;
    function tick() {
      const left = Math.max(0, Math.min(deadline - serverNow(), longest));
      const seconds = Math.ceil(left / 1000);
      node.textContent =
        seconds > 0
          ? `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`
          : "Time’s up";
      node.classList.toggle("room-countdown-low", seconds <= 5);
      node.setAttribute("aria-label", seconds > 0 ? `${seconds} seconds left` : "Time is up");
      if (seconds <= 0 && !expired) {
        expired = true;
        clearInterval(timer);
        if (onExpire) onExpire();
      }
    }
    const timer = setInterval(tick, 250);
    tick();
    return () => clearInterval(timer);
  }

  // ---- reveal: the class's split ----------------------------------------------------------

  function percent(value) {
    return typeof value === "number" && Number.isFinite(value)
      ? `${Math.round(value * 100)}%`
      : "–";
  }

  function share(part, whole) {
    return whole > 0 ? part / whole : 0;
  }

  function plural(count, one, many) {
    return `${count} ${count === 1 ? one : many}`;
  }

  /** A labelled horizontal bar: `fraction` of the track filled (CSSOM width: allowed by the CSP). */
  function bar(fraction, className) {
    const fill = el("span", { className: "room-bar-fill" });
    fill.style.width = `${(Math.min(Math.max(fraction, 0), 1) * 100).toFixed(1)}%`;
    return el(
      "span",
      { className: `room-bar-track ${className || ""}`, "aria-hidden": "true" },
      fill,
    );
  }

  /** "14 votes (61%)" with its bar: how many picked passage `index`. */
  function splitFor(reveal, index) {
    const tally = Array.isArray(reveal.tally) ? reveal.tally : [0, 0];
    const count = Number(tally[index]) || 0;
    const total = Number(reveal.votes) || tally.reduce((a, b) => a + (Number(b) || 0), 0);
    const fraction = share(count, total);
    return el(
      "div",
      { className: `room-split ${index === reveal.answer ? "is-answer" : ""}` },
      el(
        "p",
        { className: "room-split-text" },
        el("strong", { className: "room-split-percent", text: percent(fraction) }),
        ` picked this one (${plural(count, "vote", "votes")})`,
      ),
      bar(fraction),
    );
  }

  // ---- end of session -----------------------------------------------------------------------------

  /** The server's chart SVG as a node (trusted server output, parsed as XML, never as HTML). */
  function svgNode(markup) {
    if (typeof markup !== "string" || !markup.trim()) return null;
    const parsed = new DOMParser().parseFromString(markup, "image/svg+xml");
    const root = parsed.documentElement;
    if (!root || root.localName !== "svg" || parsed.getElementsByTagName("parsererror").length) {
      return null;
    }
    for (const unwanted of root.querySelectorAll("script, foreignObject")) unwanted.remove();
    for (const node of [root, ...root.querySelectorAll("*")]) {
      for (const attribute of [...node.attributes]) {
        if (/^on/i.test(attribute.name) || /href$/i.test(attribute.name)) {
          node.removeAttribute(attribute.name);
        }
      }
    }
    return document.importNode(root, true);
  }

  /** A chart: the server's SVG, or (without one) a bar per row drawn here. */
  function chartFigure(title, markup, rows) {
    const svg = svgNode(markup);
    const figure = el("figure", { className: "chart-figure room-chart" });
    if (svg) {
      figure.append(svg);
    } else {
      figure.append(
        el(
          "ul",
          { className: "room-rows" },
          (rows || []).map((row) =>
            el(
              "li",
              {},
              el("span", { className: "room-row-key", text: String(row.key) }),
              bar(Number(row.accuracy) || 0),
              el("span", {
                className: "room-row-value",
                text: `${percent(row.accuracy)} (${row.correct}/${row.guesses})`,
              }),
            ),
          ),
        ),
      );
    }
    figure.append(
      el("figcaption", {
        text: "Bars: the observed rate; whiskers: Wilson 95% interval; dashed line: 50%, a coin toss.",
      }),
    );
    // The SVG carries its own visible title; the heading is for the page's outline.
    return el(
      "section",
      { className: "room-summary-part" },
      el("h2", { className: "visually-hidden", text: title }),
      figure,
    );
  }

  function accuracyVerdict(accuracy) {
    if (!accuracy || !accuracy.guesses) return "No votes were cast.";
    if (accuracy.ci_low > 0.5)
      return "Better than a coin toss: the class can tell Shakespeare from the models.";
    if (accuracy.ci_high < 0.5) return "Worse than a coin toss: the models fooled the class.";
    return "Not distinguishable from a coin toss (50%) with this many votes.";
  }

  /** The class's accuracy against 50%, on a 0–100% scale with its 95% interval. */
  function accuracyBlock(accuracy) {
    if (!accuracy || !accuracy.guesses) {
      return el(
        "section",
        { className: "room-accuracy", "aria-label": "Class accuracy" },
        el("p", {
          className: "room-accuracy-verdict",
          id: "room-accuracy",
          text: accuracyVerdict(accuracy),
        }),
      );
    }
    const fill = el("span", { className: "room-scale-fill" });
    fill.style.width = `${(accuracy.accuracy * 100).toFixed(1)}%`; // CSSOM: allowed by the CSP
    const interval = el("span", { className: "room-scale-ci" });
    interval.style.left = `${(accuracy.ci_low * 100).toFixed(1)}%`;
    interval.style.width = `${((accuracy.ci_high - accuracy.ci_low) * 100).toFixed(1)}%`;
    const scale = el(
      "div",
      { className: "room-scale", "aria-hidden": "true" },
      fill,
      interval,
      el("span", { className: "room-scale-chance" }),
      el("span", { className: "room-scale-tick room-scale-0", text: "0%" }),
      el("span", { className: "room-scale-tick room-scale-50", text: "50%: chance" }),
      el("span", { className: "room-scale-tick room-scale-100", text: "100%" }),
    );
    return el(
      "section",
      { className: "room-accuracy", "aria-label": "Class accuracy" },
      el(
        "p",
        { className: "room-accuracy-figure" },
        el("strong", { id: "room-accuracy", text: percent(accuracy.accuracy) }),
        el("span", {
          className: "room-accuracy-detail",
          text: ` right (${accuracy.correct} of ${plural(accuracy.guesses, "vote", "votes")})`,
        }),
      ),
      el("p", {
        className: "room-accuracy-ci",
        id: "room-accuracy-ci",
        text: `95% interval ${percent(accuracy.ci_low)}–${percent(accuracy.ci_high)}; chance is 50%.`,
      }),
      scale,
      el("p", { className: "room-accuracy-verdict", text: accuracyVerdict(accuracy) }),
    );
  }

  function topStudents(students) {
    const list = Array.isArray(students) ? students : [];
    if (!list.length) return null;
    return el(
      "section",
      { className: "room-summary-part room-top" },
      el("h2", { text: "Top students" }),
      el(
        "ol",
        { className: "room-top-list", id: "room-top-students" },
        list.map((student) =>
          el(
            "li",
            {},
            el("span", { className: "room-top-name", text: String(student.nickname) }),
            el("span", {
              className: "room-top-score",
              text: `${student.correct} of ${student.votes} right`,
            }),
          ),
        ),
      ),
    );
  }

  /** The whole summary, for the projector and the phones. */
  function renderSummary(summary) {
    if (!summary) return [el("p", { className: "muted", text: "No summary." })];
    const charts = summary.charts || {};
    if (!summary.accuracy || !summary.accuracy.guesses) {
      return [accuracyBlock(summary.accuracy)]; // no votes: nothing to chart
    }
    return [
      el(
        "div",
        { className: "room-summary-top" },
        accuracyBlock(summary.accuracy),
        topStudents(summary.top_students),
      ),
      el(
        "div",
        { className: "room-summary-charts" },
        chartFigure("Accuracy by model", charts.by_model, summary.by_model),
        chartFigure("Accuracy by temperature", charts.by_temperature, summary.by_temperature),
      ),
    ];
  }

  return {
    follow,
    countdown,
    percent,
    share,
    plural,
    splitFor,
    renderSummary,
  };
})();

// ---- the "new room" form (/classroom) ---------------------------------------------------------------

(function () {
  const form = document.getElementById("room-create-form");
  if (!form) return;
  const { api, showAlert, sentence, recallSettings, rememberSettings, selectIfPresent } =
    window.RealOrRNN;
  const status = document.getElementById("room-create-status");
  const alertRegion = document.getElementById("room-create-alert");
  const button = document.getElementById("room-create");
  const rounds = document.getElementById("room-rounds");
  const SETTINGS_KEY = "realornn.classroom.settings";

  function settingsFromForm() {
    const data = new FormData(form);
    return {
      difficulty: String(data.get("difficulty") || "mixed"),
      model: String(data.get("model") || "") || null,
      rounds: Number(data.get("rounds")),
      timer_seconds: data.get("timer_seconds") ? Number(data.get("timer_seconds")) : null,
    };
  }

  function restore() {
    const saved = recallSettings(SETTINGS_KEY);
    if (!saved) return;
    const radio = form.querySelector(
      `input[name="difficulty"][value="${CSS.escape(String(saved.difficulty))}"]`,
    );
    if (radio) radio.checked = true;
    for (const [name, value] of [
      ["model", saved.model || ""],
      ["timer_seconds", saved.timer_seconds == null ? "" : String(saved.timer_seconds)],
    ]) {
      selectIfPresent(form.elements[name], value);
    }
    if (Number.isInteger(saved.rounds) && saved.rounds >= 1 && saved.rounds <= 30) {
      rounds.value = String(saved.rounds);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const settings = settingsFromForm();
    showAlert(alertRegion, "");
    if (!Number.isInteger(settings.rounds) || settings.rounds < 1 || settings.rounds > 30) {
      rounds.setAttribute("aria-invalid", "true");
      status.className = "form-status is-error";
      status.textContent = "The number of rounds is a whole number from 1 to 30.";
      rounds.focus();
      return;
    }
    rounds.removeAttribute("aria-invalid");
    status.className = "form-status";
    status.textContent = "Creating the room…";
    button.disabled = true;
    rememberSettings(SETTINGS_KEY, settings);
    try {
      const room = await api("POST", "/api/rooms", settings);
      status.textContent = `Room ${room.code} created. Opening it…`;
      window.location.assign(`/classroom/${encodeURIComponent(room.code)}`);
    } catch (error) {
      button.disabled = false;
      status.textContent = "";
      showAlert(alertRegion, `Could not create the room: ${sentence(error.message)}`);
    }
  });

  restore();
})();

// ---- the projector (/classroom/{code}) ------------------------------------------------------------

(function () {
  const root = document.getElementById("room-host");
  if (!root) return;
  const { el, api, showAlert, sentence } = window.RealOrRNN;
  const { revealPassage, showJudge } = window.RealOrRNNReveal;
  const Room = window.RealOrRNNRoom;
  const code = root.dataset.code;
  const isHost = root.dataset.host === "true";
  const base = `/api/rooms/${encodeURIComponent(code)}`;

  const $ = (id) => document.getElementById(id);
  const ui = {
    connection: $("room-connection"),
    alert: $("room-alert"),
    statusLine: $("room-status-line"),
    start: $("room-start"),
    reveal: $("room-reveal"),
    next: $("room-next"),
    end: $("room-end"),
    fullscreen: $("room-fullscreen"),
    lobby: $("room-lobby"),
    playerCount: $("room-player-count"),
    playerNoun: $("room-player-noun"),
    settings: $("room-settings"),
    round: $("room-round"),
    roundLabel: $("room-round-label"),
    question: $("room-question"),
    countdown: $("room-countdown"),
    voteCount: $("room-vote-count"),
    voteProgress: $("room-vote-progress"),
    result: $("room-result"),
    passages: $("room-passages"),
    heatKey: $("room-heat-key"),
    explanation: $("room-heatmap-explanation"),
    judge: $("room-judge-verdict"),
    summary: $("room-summary"),
    summaryBody: $("room-summary-body"),
  };

  const shown = { roundId: null, revealedRoundId: null, summarised: false, status: null };
  let stopCountdown = () => {};
  let busy = false;

  const live = Room.follow(code, {
    onState: render,
    onConnection: showConnection,
    onError: (error) => showAlert(ui.alert, `Could not load the room: ${sentence(error.message)}`),
    onGone: () => {
      showAlert(
        ui.alert,
        `There is no room ${code}: check the code, or create a new room on the Classroom page.`,
      );
      ui.connection.textContent = "";
      for (const button of [ui.start, ui.reveal, ui.next, ui.end]) if (button) button.hidden = true;
    },
  });

  function showConnection(how) {
    const text = {
      live: "Live",
      reconnecting: "Reconnecting…",
      offline: "Offline: waiting for the network…",
    };
    ui.connection.textContent = text[how] || "";
    ui.connection.dataset.state = how;
  }

  function settingsText(state) {
    const settings = state.settings || {};
    const parts = [Room.plural(state.rounds_total, "round", "rounds")];
    parts.push(
      settings.model ? `model ${settings.model}` : `${settings.difficulty || "mixed"} difficulty`,
    );
    parts.push(settings.timer_seconds ? `${settings.timer_seconds} seconds to vote` : "no timer");
    return parts.join(" · ");
  }

  // ---- rendering -------------------------------------------------------------------------------

  function render(state) {
    const status = state.status;
    ui.lobby.hidden = status !== "lobby";
    ui.round.hidden = !(status === "voting" || status === "revealed");
    ui.summary.hidden = status !== "ended";
    root.dataset.status = status;
    if (status === "ended") showConnection("ended"); // the stream is closed: nothing more comes

    const joined = Number(state.players) || 0;
    ui.playerCount.textContent = String(joined);
    ui.playerNoun.textContent = joined === 1 ? "student has joined" : "students have joined";
    ui.settings.textContent = settingsText(state);

    if ((status === "voting" || status === "revealed") && state.round) renderRound(state);
    else {
      stopCountdown();
      stopCountdown = () => {};
    }
    if (status === "ended" && !shown.summarised) {
      shown.summarised = true;
      ui.summaryBody.replaceChildren(...Room.renderSummary(state.summary));
      if (shown.status && shown.status !== "ended") ui.summary.querySelector("h1").focus();
    }
    renderControls(state);
    shown.status = status;
  }

  function renderRound(state) {
    const round = state.round;
    const fresh = round.round_id !== shown.roundId;
    if (fresh) {
      shown.roundId = round.round_id;
      shown.revealedRoundId = null;
      ui.passages.replaceChildren(
        ...(round.passages || []).map((passage, index) => passageCard(passage, index)),
      );
      ui.result.hidden = true;
      ui.result.replaceChildren();
      ui.heatKey.hidden = true;
      stopCountdown();
      stopCountdown = round.reveal
        ? () => {}
        : Room.countdown(ui.countdown, round, live.serverNow, () => renderControls(live.state));
      if (!round.reveal) ui.countdown.hidden = !round.deadline;
    }
    ui.roundLabel.textContent = `Round ${round.number} of ${state.rounds_total}`;

    const votes = Number(round.votes) || 0;
    const joined = Number(state.players) || 0;
    ui.voteCount.textContent = `${votes} of ${joined} ${joined === 1 ? "has" : "have"} voted`;
    ui.voteProgress.style.width = `${(Room.share(votes, joined) * 100).toFixed(1)}%`;

    if (round.reveal && shown.revealedRoundId !== round.round_id) {
      shown.revealedRoundId = round.round_id;
      stopCountdown();
      stopCountdown = () => {};
      ui.countdown.hidden = true;
      renderReveal(round);
    }
  }

  function passageCard(passage, index) {
    const labelId = `room-passage-${index}-label`;
    return el(
      "article",
      {
        className: "passage room-passage",
        "aria-labelledby": labelId,
        dataset: { index: String(index) },
      },
      el(
        "header",
        { className: "passage-header" },
        el("h2", { id: labelId, className: "passage-label", text: `Passage ${index + 1}` }),
        el("span", { className: "verdict" }),
      ),
      el("div", { className: "room-split-slot" }),
      el("div", { className: "attribution room-attribution", hidden: true }),
      el("div", {
        className: "passage-text room-passage-text",
        lang: "en",
        text: String(passage.text ?? ""),
      }),
    );
  }

  function renderReveal(round) {
    const reveal = round.reveal;
    const articles = ui.passages.querySelectorAll(".passage");
    (reveal.passages || []).forEach((info, index) => {
      const article = articles[index];
      if (!article || !info) return;
      const text =
        round.passages && round.passages[index] ? String(round.passages[index].text ?? "") : "";
      revealPassage(article, info, text);
      article.querySelector(".room-split-slot").replaceChildren(Room.splitFor(reveal, index));
    });
    const answer = Number(reveal.answer);
    const votes = Number(reveal.votes) || 0;
    const correct = Number(reveal.correct) || 0;
    ui.result.replaceChildren(
      el("strong", {
        className: "room-result-answer",
        text: `Passage ${answer + 1} is the real Shakespeare.`,
      }),
      " ",
      el("span", {
        id: "room-result-split",
        text: votes
          ? `${correct} of ${Room.plural(votes, "vote", "votes")} (${Room.percent(Room.share(correct, votes))}) got it right.`
          : "Nobody voted this round.",
      }),
    );
    ui.result.hidden = false;
    ui.explanation.textContent = reveal.heatmap_explanation || "";
    showJudge(ui.judge, reveal.judge);
    ui.heatKey.hidden = !(reveal.passages || []).some((p) => p && p.surprisal);
  }

  function renderControls(state) {
    if (!isHost || !state) return;
    const status = state.status;
    const round = state.round;
    const left = state.rounds_total - state.round_number;
    const expired = round && round.deadline && Date.parse(round.deadline) <= live.serverNow();
    ui.start.hidden = status !== "lobby";
    ui.reveal.hidden = status !== "voting";
    ui.next.hidden = !(status === "revealed" && left > 0);
    ui.end.hidden = status !== "revealed"; // reveal an open round first: its votes count
    ui.end.classList.toggle("button-primary", status === "revealed" && left <= 0);
    ui.reveal.classList.toggle(
      "room-attention",
      Boolean(expired) || (round && round.votes >= state.players && state.players > 0),
    );

    let line = "";
    if (status === "lobby") {
      line = state.players ? "Start when everyone is in." : "Waiting for students to join…";
    } else if (status === "voting") {
      line =
        expired || (round && round.closed) ? "Time’s up: reveal the answer." : "Voting is open.";
    } else if (status === "revealed") {
      line =
        left > 0 ? `${Room.plural(left, "round", "rounds")} to go.` : "That was the last round.";
    } else if (status === "ended") {
      line = "The session has ended.";
    }
    ui.statusLine.textContent = line;
    for (const button of [ui.start, ui.reveal, ui.next, ui.end]) button.disabled = busy;
  }

  // ---- actions ---------------------------------------------------------------------------------

  async function act(what, request) {
    if (busy) return;
    busy = true;
    renderControls(live.state);
    showAlert(ui.alert, "");
    try {
      await request();
    } catch (error) {
      showAlert(ui.alert, `Could not ${what}: ${sentence(error.message)}`);
    } finally {
      busy = false;
      await live.refresh();
      renderControls(live.state);
    }
  }

  function startRound() {
    act("start the round", () => api("POST", `${base}/rounds`)).then(() => {
      if (live.state && live.state.status === "voting") ui.question.focus({ preventScroll: true });
    });
  }

  function reveal() {
    const round = live.state && live.state.round;
    if (!round) return;
    act("reveal the answer", () =>
      api("POST", `${base}/rounds/${encodeURIComponent(round.round_id)}/reveal`),
    );
  }

  function endSession() {
    const state = live.state;
    if (!state) return;
    const early = state.status === "voting" || state.round_number < state.rounds_total;
    if (early && !window.confirm("End the session now? The remaining rounds will not be played."))
      return;
    act("end the session", () => api("POST", `${base}/end`));
  }

  /** The action a presenter's "next" key or N does: whichever main button is showing. */
  function primaryAction() {
    for (const button of [ui.start, ui.reveal, ui.next]) {
      if (button && !button.hidden && !button.disabled) {
        button.click();
        return true;
      }
    }
    return false;
  }

  if (isHost) {
    ui.start.addEventListener("click", startRound);
    ui.next.addEventListener("click", startRound);
    ui.reveal.addEventListener("click", reveal);
    ui.end.addEventListener("click", endSession);
    document.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
      if (window.RealOrRNN.keyBelongsToControl(event.target, event.key)) return;
      if (event.key === "n" || event.key === "N" || event.key === "PageDown") {
        if (primaryAction()) event.preventDefault();
      }
    });
  }

  if (document.fullscreenEnabled) {
    ui.fullscreen.hidden = false;
    ui.fullscreen.addEventListener("click", () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else document.documentElement.requestFullscreen().catch(() => {});
    });
    document.addEventListener("fullscreenchange", () => {
      ui.fullscreen.textContent = document.fullscreenElement ? "Exit full screen" : "Full screen";
    });
  }
})();
