// Helpers shared by play.js and explore.js. No framework, no innerHTML: every piece of server
// text goes into the page through textContent / createTextNode.
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

  /** fetch + JSON both ways; rejects with an ApiError carrying a readable message. */
  async function api(method, url, payload) {
    const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
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
    return body;
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
    ApiError,
    describeError,
    showAlert,
    formatNumber,
    keyBelongsToControl,
    sentence,
  };
})();
