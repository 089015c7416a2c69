// Helpers shared by every page's script (play, explore, tape, classroom). No framework, no
// innerHTML: every piece of server text goes into the page through textContent / createTextNode.
"use strict";

window.RealOrRNN = (function () {
  /** An element with attributes and children (strings become text nodes). */
  function el(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  /** A readable sentence from an error body: {"detail": "..."} or pydantic's list of errors. */
  function describeError(status, body) {
    const detail = body && typeof body === "object" ? body.detail : null;
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map((item) => {
          if (!item || typeof item !== "object") return String(item);
          const where = Array.isArray(item.loc)
            ? item.loc.filter((part) => part !== "body" && part !== "query").join(" → ")
            : "";
          const message = item.msg || "is not valid";
          return where ? `${where}: ${message}` : message;
        })
        .join("; ");
    }
    if (status === 404) return "Not found (HTTP 404).";
    if (status === 429) return "Too many requests; wait a moment and try again.";
    if (status >= 500) return `The server had a problem (HTTP ${status}). Try again in a moment.`;
    return `The request failed (HTTP ${status}).`;
  }

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** fetch + JSON both ways: the parsed body and the response (for its headers); rejects with an
   *  ApiError carrying a readable message. `init` adds fetch options (e.g. cache: "no-store"). */
  async function request(method, url, payload, init) {
    const options = {
      ...init,
      method,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    };
    if (payload !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (networkError) {
      throw new ApiError(0, "Could not reach the server. Check the connection and try again.");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (notJson) {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, describeError(response.status, body));
    if (body === null) throw new ApiError(response.status, "The server sent an unreadable reply.");
    return { body, response };
  }

  /** fetch + JSON both ways: the parsed body; rejects with an ApiError with a readable message. */
  async function api(method, url, payload) {
    return (await request(method, url, payload)).body;
  }

  /** The message as a sentence: with a full stop at the end when it has none. */
  function sentence(message) {
    const text = String(message || "").trim();
    return text && !/[.!?…]$/.test(text) ? `${text}.` : text;
  }

  /** Show (or, with an empty message, clear) a message in an alert region. */
  function showAlert(region, message) {
    region.textContent = message || "";
    region.classList.toggle("is-visible", Boolean(message));
    if (message) region.scrollIntoView({ block: "nearest" }); // it may sit above the fold
  }

  /** Checks a nickname (1 to 24 characters) before a form sends it: when it is out of bounds,
   *  marks the input invalid, says why in the form's status line and returns false; otherwise
   *  clears the mark, shows `pending` ("Saving…") and returns true. */
  function checkNickname(nickname, input, status, pending) {
    if (nickname.length < 1 || nickname.length > 24) {
      status.className = "form-status is-error";
      status.textContent = "A nickname has 1 to 24 characters.";
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return false;
    }
    input.removeAttribute("aria-invalid");
    status.className = "form-status";
    status.textContent = pending;
    return true;
  }

  /** Settings a page remembered with rememberSettings: the saved object, or null (none, not
   *  readable, or no storage, as in some private modes). */
  function recallSettings(key) {
    try {
      const saved = JSON.parse(localStorage.getItem(key) || "null");
      return saved && typeof saved === "object" ? saved : null;
    } catch (unavailable) {
      return null;
    }
  }

  /** Remembers a page's settings in localStorage (without storage, they are not remembered). */
  function rememberSettings(key, settings) {
    try {
      localStorage.setItem(key, JSON.stringify(settings));
    } catch (unavailable) {
      /* private mode: settings simply are not remembered */
    }
  }

  /** Selects `value` in a <select> when it is one of its options; otherwise leaves it as it is. */
  function selectIfPresent(select, value) {
    if ([...select.options].some((option) => option.value === value)) select.value = value;
  }

  function formatNumber(value, digits) {
    return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
  }

  /** True when a key press belongs to the focused control (typing, a select's type-ahead,
   *  arrows moving between radio buttons) rather than to the page's shortcuts. */
  function keyBelongsToControl(target, key) {
    if (!(target instanceof Element)) return false;
    if (target.isContentEditable || target.closest("select, textarea")) return true;
    const input = target.closest("input");
    if (!input) return false;
    if (input.type === "radio" || input.type === "checkbox") {
      return key.startsWith("Arrow") || key === " " || key === "Enter";
    }
    return true;
  }

  return {
    el,
    api,
    request,
    ApiError,
    describeError,
    showAlert,
    formatNumber,
    keyBelongsToControl,
    sentence,
    checkNickname,
    recallSettings,
    rememberSettings,
    selectIfPresent,
  };
})();
