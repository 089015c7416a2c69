// The game: draw a round, take a guess (click or key), reveal the answer with the attribution and
// the surprisal heatmap. The server never sends the answer before the guess, and nothing here
// orders or styles a passage by anything but its index.
"use strict";

(function () {
  const { el, api, showAlert, keyBelongsToControl, sentence, checkNickname } = window.RealOrRNN;
  const { recallSettings, rememberSettings, selectIfPresent } = window.RealOrRNN;
  const { revealPassage, showJudge } = window.RealOrRNNReveal;

  const $ = (id) => document.getElementById(id);
  const ui = {
    modeInputs: document.querySelectorAll('input[name="mode"]'),
    difficulty: $("difficulty"),
    model: $("model"),
    newRound: $("new-round"),
    question: $("question"),
    hint: $("round-hint"),
    alert: $("alert"),
    passages: $("passages"),
    singleChoices: $("single-choices"),
    result: $("result"),
    reveal: $("reveal"),
    explanation: $("heatmap-explanation"),
    judge: $("judge-verdict"),
    nextRound: $("next-round"),
    nextBottom: $("next-bottom"),
    nicknameForm: $("nickname-form"),
    nickname: $("nickname"),
    nicknameStatus: $("nickname-status"),
  };

  const HINTS = {
    pair: "One passage is from a Shakespeare play; the other was written by a language model.",
    single: "This passage is either from a Shakespeare play or written by a language model.",
  };
  const SETTINGS_KEY = "realornn.play.settings";

  // phase: "idle" | "loading" | "guessing" | "submitting" | "revealed" | "closed"
  const state = { phase: "idle", round: null, request: 0 };

  // ---- settings -------------------------------------------------------------------------------

  function currentMode() {
    const checked = document.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "pair";
  }

  function saveSettings() {
    rememberSettings(SETTINGS_KEY, {
      mode: currentMode(),
      difficulty: ui.difficulty.value,
      model: ui.model.value,
    });
  }

  function restoreSettings() {
    const settings = recallSettings(SETTINGS_KEY);
    if (!settings) return;
    for (const input of ui.modeInputs) input.checked = input.value === settings.mode;
    if (!document.querySelector('input[name="mode"]:checked')) ui.modeInputs[0].checked = true;
    selectIfPresent(ui.difficulty, settings.difficulty);
    selectIfPresent(ui.model, settings.model);
  }

  // ---- drawing a round ------------------------------------------------------------------------

  async function newRound() {
    const request = ++state.request;
    const mode = currentMode();
    const payload = { mode, difficulty: ui.difficulty.value };
    if (ui.model.value) payload.model = ui.model.value;

    state.phase = "loading";
    state.round = null;
    const focused = document.activeElement;
    const hadFocusInReveal = ui.reveal.contains(focused) || ui.nextBottom.contains(focused);
    showAlert(ui.alert, "");
    ui.result.textContent = "";
    ui.result.className = "result";
    ui.reveal.hidden = true;
    ui.nextBottom.hidden = true;
    ui.singleChoices.hidden = true;
    ui.question.textContent = mode === "single" ? "Real or RNN?" : "Which is the real Shakespeare?";
    ui.hint.textContent = HINTS[mode];
    ui.passages.setAttribute("aria-busy", "true");
    ui.passages.replaceChildren(el("p", { className: "loading", text: "Drawing passages…" }));
    if (hadFocusInReveal) ui.question.focus();

    let round;
    try {
      round = await api("POST", "/api/rounds", payload);
    } catch (error) {
      if (request !== state.request) return;
      state.phase = "idle";
      ui.passages.setAttribute("aria-busy", "false");
      ui.passages.replaceChildren();
      showAlert(ui.alert, `Could not start a round: ${sentence(error.message)}`);
      return;
    }
    if (request !== state.request) return; // a newer round was asked for meanwhile
    renderRound(round);
  }

  function renderRound(round) {
    const passages = Array.isArray(round.passages) ? round.passages : [];
    const mode = round.mode === "single" || passages.length === 1 ? "single" : "pair";
    state.round = { id: round.round_id, mode, texts: passages.map((p) => String(p.text ?? "")) };
    state.phase = "guessing";
    if (round.question) ui.question.textContent = round.question;
    ui.hint.textContent = HINTS[mode];
    ui.passages.className = `passages passages-${mode}`;
    ui.passages.replaceChildren(
      ...state.round.texts.map((text, index) => renderPassage(text, index, mode)),
    );
    ui.passages.setAttribute("aria-busy", "false");
    ui.singleChoices.hidden = mode !== "single";
    setChoicesEnabled(true);
  }

  function renderPassage(text, index, mode) {
    const labelId = `passage-${index}-label`;
    const article = el(
      "article",
      { className: "passage", "aria-labelledby": labelId, dataset: { index: String(index) } },
      el(
        "header",
        { className: "passage-header" },
        el("h2", {
          id: labelId,
          className: "passage-label",
          text: mode === "single" ? "The passage" : `Passage ${index + 1}`,
        }),
        el("span", { className: "verdict" }),
      ),
      el("div", { className: "passage-text", lang: "en", text }),
    );
    if (mode === "pair") {
      article.append(
        el(
          "button",
          { type: "button", className: "button choice", dataset: { choice: String(index) } },
          "This one is real ",
          el("kbd", { text: String(index + 1) }),
        ),
      );
    }
    article.append(el("div", { className: "attribution", hidden: true }));
    return article;
  }

  function choiceButtons() {
    return document.querySelectorAll("#passages button.choice, #single-choices button.choice");
  }

  function setChoicesEnabled(enabled) {
    for (const button of choiceButtons()) button.disabled = !enabled;
  }

  // ---- guessing -------------------------------------------------------------------------------

  async function guess(choice) {
    if (state.phase !== "guessing" || !state.round) return;
    const round = state.round;
    if (round.mode === "pair" && choice !== 0 && choice !== 1) return;
    if (round.mode === "single" && choice !== "real" && choice !== "generated") return;
    state.phase = "submitting";
    setChoicesEnabled(false);
    markPick(choice);
    showAlert(ui.alert, "");

    let outcome;
    try {
      outcome = await api("POST", `/api/rounds/${encodeURIComponent(round.id)}/guess`, { choice });
    } catch (error) {
      if (state.round !== round) return;
      if (error.status === 409 || error.status === 404 || error.status === 410) {
        state.phase = "closed";
        markPick(null);
        showAlert(ui.alert, `${sentence(error.message)} Press N or “New round” for another round.`);
      } else {
        state.phase = "guessing";
        markPick(null);
        setChoicesEnabled(true);
        showAlert(ui.alert, `Your guess was not recorded: ${sentence(error.message)}`);
      }
      return;
    }
    if (state.round !== round) return;
    reveal(round, choice, outcome);
  }

  function markPick(choice) {
    for (const button of choiceButtons()) {
      const picked = choice !== null && button.dataset.choice === String(choice);
      button.classList.toggle("is-picked", picked);
      button.setAttribute("aria-pressed", picked ? "true" : "false");
    }
  }

  function reveal(round, choice, outcome) {
    state.phase = "revealed";
    const revealed = Array.isArray(outcome.passages) ? outcome.passages : [];
    const articles = ui.passages.querySelectorAll(".passage");

    revealed.forEach((info, index) => {
      const article = articles[index];
      if (article && info) revealPassage(article, info, round.texts[index]);
    });

    const correct = Boolean(outcome.correct);
    ui.result.className = `result ${correct ? "is-correct" : "is-wrong"}`;
    ui.result.replaceChildren(
      el("span", { className: "result-icon", "aria-hidden": "true", text: correct ? "✓" : "✗" }),
      el("strong", { text: correct ? "Right!" : "Wrong." }),
      " ",
      resultSentence(round.mode, outcome.answer, correct),
    );
    ui.explanation.textContent = outcome.heatmap_explanation || "";
    showJudge(ui.judge, outcome.judge);
    ui.reveal.hidden = false;
    ui.nextBottom.hidden = false;
    if (outcome.player) updatePlayer(outcome.player);
    ui.nextRound.focus({ preventScroll: true });
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    ui.result.scrollIntoView({ block: "nearest", behavior: smooth ? "smooth" : "auto" });
  }

  function resultSentence(mode, answer, correct) {
    if (mode === "single") {
      const what = answer === "real" ? "real Shakespeare" : "generated by a language model";
      return `The passage is ${what}.`;
    }
    const index = Number(answer);
    if (index === 0 || index === 1) {
      return `Passage ${index + 1} is the real Shakespeare${correct ? "" : "; the other was generated"}.`;
    }
    return "";
  }

  // ---- player ---------------------------------------------------------------------------------

  function updatePlayer(player) {
    const set = (id, value) => {
      if (value !== undefined && value !== null) $(id).textContent = String(value);
    };
    set("score", player.score);
    set("streak", player.streak);
    set("best-streak", player.best_streak);
    set("correct", player.correct);
    set("guesses", player.guesses);
    if (player.nickname && document.activeElement !== ui.nickname)
      ui.nickname.value = player.nickname;
  }

  async function saveNickname(event) {
    event.preventDefault();
    const nickname = ui.nickname.value.trim();
    if (!checkNickname(nickname, ui.nickname, ui.nicknameStatus, "Saving…")) return;
    try {
      const player = await api("PUT", "/api/players/me", { nickname });
      updatePlayer(player);
      ui.nickname.value = player.nickname || nickname;
      ui.nicknameStatus.textContent = `Saved: the leaderboard shows you as “${ui.nickname.value}” (it lists the top 20).`;
    } catch (error) {
      ui.nicknameStatus.className = "form-status is-error";
      ui.nicknameStatus.textContent = `Not saved: ${sentence(error.message)}`;
    }
  }

  // ---- events ---------------------------------------------------------------------------------

  function onKeyDown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    if (keyBelongsToControl(event.target, event.key)) return;
    const key = event.key;
    const round = state.round;

    if (state.phase === "guessing" && round) {
      let choice = null;
      if (round.mode === "pair") {
        if (key === "1" || key === "ArrowLeft") choice = 0;
        else if (key === "2" || key === "ArrowRight") choice = 1;
      } else if (key === "r" || key === "R") choice = "real";
      else if (key === "g" || key === "G") choice = "generated";
      if (choice !== null) {
        event.preventDefault();
        guess(choice);
      }
      return;
    }
    if (state.phase === "revealed" || state.phase === "closed" || state.phase === "idle") {
      const onControl =
        event.target instanceof Element && event.target.closest("button, a, summary");
      if (key === "n" || key === "N" || (key === "Enter" && !onControl)) {
        event.preventDefault();
        newRound();
      }
    }
  }

  function onSettingsChanged() {
    saveSettings();
    // New settings take effect at once: an unanswered round costs nothing to replace.
    if (state.phase !== "submitting") newRound();
  }

  ui.passages.addEventListener("click", (event) => {
    const button = event.target.closest("button.choice");
    if (button) guess(Number(button.dataset.choice));
  });
  ui.singleChoices.addEventListener("click", (event) => {
    const button = event.target.closest("button.choice");
    if (button) guess(button.dataset.choice);
  });
  ui.newRound.addEventListener("click", newRound);
  for (const button of document.querySelectorAll("button.next-round")) {
    button.addEventListener("click", newRound);
  }
  for (const input of ui.modeInputs) input.addEventListener("change", onSettingsChanged);
  ui.difficulty.addEventListener("change", onSettingsChanged);
  ui.model.addEventListener("change", onSettingsChanged);
  ui.nicknameForm.addEventListener("submit", saveNickname);
  document.addEventListener("keydown", onKeyDown);

  restoreSettings();
  newRound();
})();
