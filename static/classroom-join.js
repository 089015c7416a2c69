// Classroom mode, the student's phone (/join/{code}): a nickname, then the lecturer's rounds as
// they come: vote, see whether you were right, and the class's result at the end. The player's
// token is an HttpOnly cookie the server sets when joining, so a reload (or a phone that slept)
// finds the player again with a GET; nothing secret is kept in localStorage.
"use strict";

(function () {
  const root = document.getElementById("room-join");
  if (!root || !root.dataset.code) return; // no code yet: the page shows only the code form
  const { el, api, showAlert, sentence, keyBelongsToControl, checkNickname } = window.RealOrRNN;
  const { describeSource, verdict } = window.RealOrRNNReveal;
  const Room = window.RealOrRNNRoom;
  const code = root.dataset.code;
  const base = `/api/rooms/${encodeURIComponent(code)}`;
  const NICKNAME_KEY = "realornn.classroom.nickname"; // a convenience, not a credential

  const $ = (id) => document.getElementById(id);
  const ui = {
    me: $("room-me"),
    connection: $("room-connection"),
    alert: $("room-alert"),
    loading: $("room-loading"),
    missing: $("room-missing"),
    codeInput: $("room-code-input"),
    joinPanel: $("room-join-panel"),
    joinContext: $("room-join-context"),
    hostHere: $("room-host-here"),
    joinForm: $("room-join-form"),
    nickname: $("room-nickname"),
    joinStatus: $("room-join-status"),
    joinButton: $("room-join-button"),
    wait: $("room-wait"),
    waitText: $("room-wait-text"),
    vote: $("room-vote"),
    roundLabel: $("room-round-label"),
    countdown: $("room-countdown"),
    question: $("room-vote-heading"),
    passages: $("room-passages"),
    choices: $("room-choices"),
    voted: $("room-voted"),
    result: $("room-result"),
    resultRound: $("room-result-round"),
    verdict: $("room-verdict"),
    answer: $("room-answer"),
    classSplit: $("room-class-split"),
    score: $("room-score"),
    attributions: $("room-attributions"),
    ended: $("room-ended"),
    finalScore: $("room-final-score"),
    endedSummary: $("room-ended-summary"),
  };
  const panels = [ui.loading, ui.missing, ui.joinPanel, ui.wait, ui.vote, ui.result, ui.ended];

  const shown = { panel: null, roundId: null, resultRoundId: null, summarised: false };
  let stopCountdown = () => {};
  let expired = false; // the open round's countdown reached zero on this phone
  let voting = false; // a vote is on its way

  const live = Room.follow(code, {
    onState: render,
    onConnection: (how) => {
      const text = { live: "", reconnecting: "Reconnecting…", offline: "Offline" };
      ui.connection.textContent = text[how] || "";
    },
    onError: (error) => {
      if (!live.state) show(null);
      showAlert(
        ui.alert,
        `Could not load the room: ${sentence(error.message)} Reload to try again.`,
      );
    },
    onGone: () => {
      show(ui.missing);
      ui.codeInput.value = "";
    },
  });

  function show(panel) {
    for (const candidate of panels) candidate.hidden = candidate !== panel;
    const changed = shown.panel !== panel;
    shown.panel = panel;
    return changed;
  }

  // ---- rendering -------------------------------------------------------------------------------

  function render(state) {
    const you = state.you && state.you.role === "player" ? state.you : null;
    ui.me.hidden = !you;
    if (you)
      ui.me.textContent = `${you.nickname} · ${Room.plural(you.score || 0, "point", "points")}`;

    if (state.status === "ended") return renderEnded(state, you);
    if (!you) return renderJoin(state);
    if (state.status === "lobby" || !state.round) {
      show(ui.wait);
      ui.waitText.textContent =
        "You’re in. The first round starts on the projector and here at the same time.";
      return;
    }
    if (state.status === "voting") return renderVoting(state, you);
    if (state.status === "revealed") return renderResult(state, you);
  }

  function renderJoin(state) {
    const isHost = state.you && state.you.role === "host";
    if (show(ui.joinPanel) && !isHost && !ui.nickname.value) {
      try {
        ui.nickname.value = localStorage.getItem(NICKNAME_KEY) || "";
      } catch (unavailable) {
        /* private mode */
      }
    }
    ui.hostHere.hidden = !isHost;
    ui.joinForm.hidden = isHost;
    if (state.status === "lobby") {
      ui.joinContext.textContent =
        "Choose a nickname. The projector shows only how many have joined, never who voted what; at the end it lists the top students by nickname.";
    } else if (state.round && !state.round.closed) {
      ui.joinContext.textContent = `Round ${state.round_number} of ${state.rounds_total} is under way: join now and vote in it.`;
    } else if (state.round_number < state.rounds_total) {
      ui.joinContext.textContent = `Voting on round ${state.round_number} of ${state.rounds_total} has closed: join now and vote from the next round.`;
    } else {
      ui.joinContext.textContent = `The last round (${state.rounds_total}) has closed its vote: join now to see the end of the session.`;
    }
  }

  function renderVoting(state, you) {
    const round = state.round;
    const fresh = round.round_id !== shown.roundId;
    if (fresh) {
      shown.roundId = round.round_id;
      expired = false;
      ui.passages.replaceChildren(...(round.passages || []).map(passageCard));
      stopCountdown();
      stopCountdown = Room.countdown(ui.countdown, round, live.serverNow, () => {
        expired = true;
        if (live.state) render(live.state);
      });
    }
    ui.roundLabel.textContent = `Round ${round.number} of ${state.rounds_total}`;
    const panelChanged = show(ui.vote);

    const hasVoted = you.vote === 0 || you.vote === 1;
    const closed = Boolean(round.closed) || expired;
    ui.choices.hidden = hasVoted || closed;
    setChoicesEnabled(!voting);
    ui.voted.hidden = !(hasVoted || closed);
    if (hasVoted) {
      ui.voted.replaceChildren(
        el("strong", { text: "Vote received" }),
        ` — you picked passage ${you.vote + 1}. Waiting for the reveal…`,
      );
    } else if (closed) {
      ui.voted.replaceChildren(
        el("strong", { text: "Voting has closed" }),
        " — waiting for the reveal…",
      );
    }
    if (fresh || panelChanged) {
      window.scrollTo({ top: 0 });
      ui.question.focus({ preventScroll: true });
    }
  }

  function passageCard(passage, index) {
    const labelId = `room-passage-${index}-label`;
    return el(
      "article",
      { className: "passage room-phone-passage", "aria-labelledby": labelId },
      el(
        "header",
        { className: "passage-header" },
        el("h2", { id: labelId, className: "passage-label", text: `Passage ${index + 1}` }),
      ),
      el("div", { className: "passage-text", lang: "en", text: String(passage.text ?? "") }),
    );
  }

  function renderResult(state, you) {
    const round = state.round;
    const reveal = round.reveal || {};
    stopCountdown();
    stopCountdown = () => {};
    const panelChanged = show(ui.result);
    ui.resultRound.textContent = `Round ${round.number} of ${state.rounds_total}`;

    const answer = Number(reveal.answer);
    const voted = you.vote === 0 || you.vote === 1;
    const correct = voted
      ? typeof you.correct === "boolean"
        ? you.correct
        : you.vote === answer
      : null;
    ui.result.classList.toggle("is-correct", correct === true);
    ui.result.classList.toggle("is-wrong", correct === false);
    ui.verdict.textContent =
      correct === null ? "No vote this round." : correct ? "Right!" : "Wrong.";
    ui.answer.textContent = `Passage ${answer + 1} is the real Shakespeare${
      voted ? `; you picked passage ${you.vote + 1}` : ""
    }.`;
    const votes = Number(reveal.votes) || 0;
    ui.classSplit.textContent = votes
      ? `The class: ${reveal.correct} of ${Room.plural(votes, "vote", "votes")} right (${Room.percent(
          Room.share(Number(reveal.correct) || 0, votes),
        )}).`
      : "";
    ui.score.textContent = `Your score: ${you.score || 0} of ${Room.plural(you.votes || 0, "vote", "votes")}.`;

    if (shown.resultRoundId !== round.round_id) {
      shown.resultRoundId = round.round_id;
      ui.attributions.replaceChildren(
        ...(reveal.passages || []).map((info, index) => attributionCard(info || {}, index)),
      );
    }
    if (panelChanged) {
      window.scrollTo({ top: 0 });
      ui.verdict.focus({ preventScroll: true });
    }
  }

  function attributionCard(info, index) {
    const isReal = Boolean(info.real);
    return el(
      "article",
      { className: `passage room-phone-attribution ${isReal ? "is-real" : "is-generated"}` },
      el(
        "header",
        { className: "passage-header" },
        el("h2", { className: "passage-label", text: `Passage ${index + 1}` }),
        el("span", { className: "verdict" }, ...verdict(isReal)),
      ),
      el(
        "div",
        { className: "attribution" },
        ...describeSource(info.source || {}, info.surprisal),
      ),
    );
  }

  function renderEnded(state, you) {
    stopCountdown();
    stopCountdown = () => {};
    const panelChanged = show(ui.ended);
    if (!you) ui.finalScore.textContent = "This session has ended.";
    else if (!you.votes) ui.finalScore.textContent = `${you.nickname}, you did not vote this time.`;
    else {
      const votes = Room.plural(you.votes, "vote", "votes");
      ui.finalScore.textContent = `${you.nickname}, you got ${you.score || 0} of ${votes} right.`;
    }
    if (!shown.summarised) {
      shown.summarised = true;
      ui.endedSummary.replaceChildren(...Room.renderSummary(state.summary));
    }
    if (panelChanged) ui.ended.querySelector("h1").focus({ preventScroll: true });
  }

  // ---- joining and voting ----------------------------------------------------------------------

  async function join(event) {
    event.preventDefault();
    const nickname = ui.nickname.value.split(/\s+/).filter(Boolean).join(" ");
    if (!checkNickname(nickname, ui.nickname, ui.joinStatus, "Joining…")) return;
    ui.joinButton.disabled = true;
    try {
      await api("POST", `${base}/players`, { nickname });
      try {
        localStorage.setItem(NICKNAME_KEY, nickname);
      } catch (unavailable) {
        /* private mode */
      }
      ui.joinStatus.textContent = "";
      await live.refresh();
    } catch (error) {
      ui.joinStatus.className = "form-status is-error";
      ui.joinStatus.textContent = `Could not join: ${sentence(error.message)}`;
      if (error.status === 409 || error.status === 422) {
        ui.nickname.setAttribute("aria-invalid", "true");
        ui.nickname.focus();
      }
      if (error.status === 409) live.refresh(); // the room may have ended
    } finally {
      ui.joinButton.disabled = false;
    }
  }

  function setChoicesEnabled(enabled) {
    for (const button of ui.choices.querySelectorAll("button")) button.disabled = !enabled;
  }

  async function vote(choice) {
    const state = live.state;
    if (voting || !state || state.status !== "voting" || !state.round) return;
    const you = state.you;
    if (!you || you.role !== "player" || you.vote === 0 || you.vote === 1) return;
    voting = true;
    setChoicesEnabled(false);
    showAlert(ui.alert, "");
    const round = state.round;
    try {
      await api("POST", `${base}/rounds/${encodeURIComponent(round.round_id)}/votes`, { choice });
      voting = false;
      live.noteVote(choice);
    } catch (error) {
      voting = false;
      if (error.status === 409 || error.status === 403 || error.status === 404) {
        showAlert(ui.alert, sentence(error.message));
        await live.refresh(); // already voted, too late, or no longer a player: the state says
      } else {
        setChoicesEnabled(true);
        showAlert(ui.alert, `Your vote was not recorded: ${sentence(error.message)} Try again.`);
      }
    }
  }

  ui.joinForm.addEventListener("submit", join);
  ui.choices.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-choice]");
    if (button) vote(Number(button.dataset.choice));
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
    if (keyBelongsToControl(event.target, event.key)) return;
    if (ui.vote.hidden || ui.choices.hidden) return;
    if (event.key === "1" || event.key === "2") {
      event.preventDefault();
      vote(Number(event.key) - 1);
    }
  });
})();
