/* The review queue (/review): confirm or correct predictions with the keyboard.
   j/k or the arrows move between items, c (or Enter) confirms the label, 1-9 pick the right label. */
"use strict";

(() => {
  const { config, t, showError, percent } = window.nlpops;
  const $ = (id) => document.getElementById(id);
  let key = "";  // the admin key: in this page's memory only

  async function call(path, options = {}) {
    const response = await fetch(config.base + path, {
      ...options,
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-API-Key": key },
    }).catch(() => { throw new Error(t("err_network")); });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = body && body.detail ? (Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail) : "";
      throw new Error(t("review_error", { status: response.status, detail }));
    }
    return body;
  }

  /** The text with each weighed word wrapped in a mark coloured by the way it pushes. */
  function highlighted(text, words) {
    const fragment = document.createDocumentFragment();
    const weights = new Map(words.map((w) => [w.word.toLowerCase(), w.weight]));
    for (const part of (text || "").split(/(\p{L}[\p{L}\p{N}_']*)/u)) {
      const weight = weights.get(part.toLowerCase());
      if (weight === undefined) {
        fragment.append(part);
        continue;
      }
      const mark = document.createElement("mark");
      mark.className = weight > 0 ? "w-for" : "w-against";
      mark.title = `${weight > 0 ? "+" : ""}${weight.toFixed(3)}`;
      mark.textContent = part;
      fragment.append(mark);
    }
    return fragment;
  }

  function button(label, onClick, hint) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "button small";
    b.textContent = hint ? `${label} (${hint})` : label;
    b.addEventListener("click", onClick);
    return b;
  }

  function renderItem(item, classes) {
    const li = document.createElement("li");
    li.className = "card review-item";
    li.tabIndex = 0;
    li.dataset.predictionId = item.prediction_id;
    const text = document.createElement("p");
    text.className = "review-text";
    text.append(highlighted(item.text ?? t("review_no_text"), item.words));
    const meta = document.createElement("p");
    meta.className = "help";
    meta.textContent = t("review_meta", { label: item.label, confidence: percent.format(item.confidence) })
      + (item.user_verdict ? ` ${t("review_flagged")}` : "");
    // every class's probability, most likely first: with three classes or more the top one says little
    const probabilities = document.createElement("p");
    probabilities.className = "help review-probabilities";
    probabilities.textContent = t("review_probabilities", {
      list: Object.entries(item.probabilities).sort(([, a], [, b]) => b - a)
        .map(([label, p]) => `${label} ${percent.format(p)}`).join(" · "),
    });
    const actions = document.createElement("div");
    actions.className = "review-actions";
    actions.append(button(t("review_confirm"), () => decide(li, item, item.label), "c"));
    classes.forEach((label, i) => {
      if (label !== item.label) actions.append(button(label, () => decide(li, item, label), String(i + 1)));
    });
    li.append(text, meta, probabilities, actions);
    li.addEventListener("keydown", (event) => onKey(event, li, item, classes));
    return li;
  }

  async function decide(li, item, label) {
    showError($("review-error"), "");
    const correct = label === item.label;
    try {
      await call(`/v1/review/${encodeURIComponent(item.prediction_id)}`, {
        method: "POST", body: JSON.stringify(correct ? { correct } : { correct, label }),
      });
    } catch (err) {
      showError($("review-error"), err.message);
      return;
    }
    const next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    $("review-status").textContent = t("review_saved", { label });
    if (next) next.focus();
    else load();
  }

  function onKey(event, li, item, classes) {
    if (event.target !== li) return;
    const move = { j: "nextElementSibling", ArrowDown: "nextElementSibling", k: "previousElementSibling", ArrowUp: "previousElementSibling" }[event.key];
    if (move) {
      li[move]?.focus();
      event.preventDefault();
    } else if (event.key === "c" || event.key === "Enter") {
      decide(li, item, item.label);
      event.preventDefault();
    } else if (/^[1-9]$/.test(event.key) && classes[Number(event.key) - 1] !== undefined) {
      decide(li, item, classes[Number(event.key) - 1]);
      event.preventDefault();
    }
  }

  async function load() {
    showError($("review-error"), "");
    let page;
    try {
      page = await call("/v1/review?limit=20");
    } catch (err) {
      showError($("review-error"), err.message);
      return;
    }
    $("review-status").textContent = t("review_size", { n: page.size });
    $("review-list").replaceChildren(...page.items.map((item) => renderItem(item, page.classes)));
    $("review-empty").hidden = page.items.length > 0;
    $("review-list").firstElementChild?.focus();
  }

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    key = $("admin-key").value;
    $("admin-key").value = "";
    load();
  });
})();
