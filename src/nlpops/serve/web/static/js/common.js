/* Shared by the nlpops pages: configuration, UI strings, API calls whose errors read as plain words. */
"use strict";

window.nlpops = (() => {
  const config = JSON.parse(document.getElementById("nlpops-config").textContent);
  const PLAIN_ERRORS = { 404: "err_404", 413: "err_413", 422: "err_422", 503: "err_503" };
  const POSITIVE = /^(pos|positive|positif|positive|satisfait|satisfied)$/i;
  const NEUTRAL = /^(neutral|neutre)$/i;

  /** The UI string `key` with its `{name}` placeholders filled from `values`. */
  function t(key, values = {}) {
    const text = config.messages[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  /** What the API said went wrong: FastAPI's `detail`, a string or pydantic's list of errors. */
  function detailOf(body) {
    if (!body || body.detail === undefined) return "";
    if (Array.isArray(body.detail)) return body.detail.map((item) => item.msg).join("; ");
    return String(body.detail);
  }

  /** Call the JSON API; throws an Error whose message is ready to show to the user. */
  async function api(path, options = {}) {
    let response;
    try {
      response = await fetch(config.base + path, {
        ...options,
        headers: { Accept: "application/json", "Content-Type": "application/json", ...options.headers },
      });
    } catch (err) {
      throw new Error(t("err_network"));
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const key = PLAIN_ERRORS[response.status] || "err_other";
      throw new Error(t(key, { detail: detailOf(body), status: response.status }));
    }
    return body;
  }

  const post = (path, payload) => api(path, { method: "POST", body: JSON.stringify(payload) });

  /** A text's length as the server counts it: in code points (an emoji is one, not two UTF-16 units). */
  const charCount = (text) => [...text].length;

  const ENVELOPE_BYTES = 1024; // {"texts": [...], "split_sentences": true} around the texts, with room to spare
  const utf8 = new TextEncoder();

  /** Consecutive slices of `texts` the API takes in one request: at most `maxCount` texts and a
   * JSON body under `maxBytes` (a full batch of long texts would otherwise be refused whole, 413). */
  function batches(texts, maxCount = config.max_batch, maxBytes = config.max_body_bytes) {
    const budget = maxBytes - ENVELOPE_BYTES;
    const out = [];
    let current = [];
    let size = 0;
    for (const text of texts) {
      const bytes = utf8.encode(JSON.stringify(text)).length + 1; // + the comma
      if (current.length && (current.length >= maxCount || size + bytes > budget)) {
        out.push(current);
        current = [];
        size = 0;
      }
      current.push(text);
      size += bytes;
    }
    if (current.length) out.push(current);
    return out;
  }

  /** How a label is coloured: "neg", "pos", "neutral" or "other". */
  function toneOf(label) {
    if (config.negative_label && label === config.negative_label) return "neg";
    if (POSITIVE.test(label)) return "pos";
    return NEUTRAL.test(label) ? "neutral" : "other";
  }

  /** Show `message` in an alert box, or hide the box when the message is empty. */
  function showError(box, message) {
    box.textContent = message;
    box.hidden = !message;
  }

  const percent = new Intl.NumberFormat(config.lang, { style: "percent", maximumFractionDigits: 1 });
  return { config, t, api, post, batches, charCount, toneOf, showError, percent };
})();
