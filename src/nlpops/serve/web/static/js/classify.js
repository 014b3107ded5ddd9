/* The classify page: texts -> labels with probability bars, highlighted words, feedback; examples. */
"use strict";

(() => {
  const { config, t, post, batches, charCount, toneOf, showError, percent } = window.nlpops;
  const $ = (id) => document.getElementById(id);
  const WORD = /([\p{L}\p{M}\p{N}_]+)/u; // Python's \w, as LIME splits words
  const FAINT = 0.15; // words under 15% of the strongest weight are noise: not highlighted nor listed

  const SHOWN_CHARS = 160; // of a line that was not classified: enough to recognise it

  /** Predictions for every text, in as few requests as the API's limits allow, in order;
   * `onChunk(done, so far)` after each request. `origin: "batch"` (an uploaded file) keeps them out of
   * the dashboard's live figures. */
  async function predictAll(texts, onChunk = () => {}, splitSentences = false, origin = "live") {
    const predictions = [];
    for (const chunk of batches(texts)) {
      const payload = splitSentences ? { texts: chunk, split_sentences: true } : { texts: chunk };
      const body = await post("/v1/predict", origin === "live" ? payload : { ...payload, origin });
      predictions.push(...body.predictions);
      onChunk(predictions.length, predictions);
    }
    return predictions;
  }

  // --- one result card ---------------------------------------------------------------------------
  function renderBars(container, probabilities) {
    const ranked = Object.entries(probabilities).sort((a, b) => b[1] - a[1]);
    for (const [label, p] of ranked) {
      const row = document.createElement("div");
      row.className = "bar-row";
      row.setAttribute("role", "meter");
      row.setAttribute("aria-valuemin", "0");
      row.setAttribute("aria-valuemax", "100");
      row.setAttribute("aria-valuenow", (p * 100).toFixed(1));
      row.setAttribute("aria-label", t("probability_of", { label, p: percent.format(p) }));
      row.innerHTML = '<span class="bar-name" aria-hidden="true"></span><span class="bar" aria-hidden="true">' +
        '<span class="bar-fill"></span></span><span class="bar-value" aria-hidden="true"></span>';
      row.querySelector(".bar-name").textContent = label;
      row.querySelector(".bar-fill").classList.add(`tone-${toneOf(label)}`);
      row.querySelector(".bar-fill").style.width = `${(p * 100).toFixed(1)}%`;
      row.querySelector(".bar-value").textContent = percent.format(p);
      container.append(row);
    }
  }

  /** Green/red legend: green always leans away from the negative label when the model has one. */
  function legendFor(label, classes) {
    const negative = config.negative_label;
    if (negative && classes.length === 2 && classes.includes(negative)) {
      return t("legend_pair", { green: classes.find((c) => c !== negative), red: negative });
    }
    return t(label === negative ? "legend_towards_negative" : "legend_towards", { label });
  }

  /** The words that count: |weight| at least FAINT of the strongest one. */
  function salient(weights) {
    const strongest = Math.max(...weights.map((w) => Math.abs(w.weight)), 0);
    return weights.filter((w) => strongest > 0 && Math.abs(w.weight) >= FAINT * strongest);
  }

  /** Wrap each salient word of `text` in a green or red mark, stronger for heavier words. */
  function highlight(paragraph, text, weights, sign) {
    const byWord = new Map(weights.map((w) => [w.word, w.weight * sign]));
    const strongest = Math.max(...weights.map((w) => Math.abs(w.weight)));
    paragraph.textContent = "";
    for (const part of text.split(WORD)) {
      const score = byWord.get(part);
      if (!score) {
        paragraph.append(part);
        continue;
      }
      const mark = document.createElement("mark");
      const level = Math.max(1, Math.ceil((3 * Math.abs(score)) / strongest));
      mark.className = `word ${score > 0 ? "word-pos" : "word-neg"} strength-${level}`;
      mark.textContent = part;
      mark.title = t("word_weight", { word: part, weight: (score > 0 ? "+" : "") + score.toFixed(3) });
      paragraph.append(mark);
    }
  }

  async function explainInto(card, text, prediction) {
    const legend = card.querySelector(".legend");
    const words = card.querySelector(".words");
    try {
      const body = await post("/v1/explain", { text });
      const kept = salient(body.weights);
      const names = new Set(kept.map((w) => w.word));
      const [pro, con] = [body.supporting, body.opposing].map((list) => list.filter((w) => names.has(w)));
      const sign = body.label === config.negative_label ? -1 : 1; // weights lean towards the predicted label
      highlight(card.querySelector(".result-text"), text, kept, sign);
      legend.textContent = kept.length ? legendFor(body.label, Object.keys(prediction.probabilities)) : t("no_words");
      const parts = [t("words_for", { label: body.label, words: pro.join(", ") || "—" })];
      if (con.length) parts.push(t("words_against", { words: con.join(", ") }));
      words.textContent = kept.length ? parts.join(" · ") : "";
    } catch (err) {
      legend.textContent = err.message;
      legend.classList.add("error-text");
    }
  }

  /** One line per sentence: its label and its words highlighted (weights lean towards its label). */
  function renderSentences(card, sentences) {
    const list = card.querySelector(".sentences");
    list.setAttribute("aria-label", t("sentences_heading"));
    for (const sentence of sentences) {
      const item = document.createElement("li");
      const badge = document.createElement("span");
      badge.className = `badge small tone-${toneOf(sentence.label)}`;
      badge.textContent = sentence.label;
      const paragraph = document.createElement("span");
      paragraph.className = "sentence-text";
      const kept = salient(sentence.words);
      if (kept.length) highlight(paragraph, sentence.text, kept, sentence.label === config.negative_label ? -1 : 1);
      else paragraph.textContent = sentence.text;
      item.append(badge, " ", paragraph);
      list.append(item);
    }
    list.hidden = !sentences.length;
  }

  // --- feedback ----------------------------------------------------------------------------------
  function feedbackOptions(card, prediction) {
    const options = card.querySelector(".fb-options");
    const others = Object.keys(prediction.probabilities).filter((c) => c !== prediction.label);
    others.forEach((label, i) => {
      const option = document.createElement("label");
      option.className = "choice";
      option.innerHTML = '<input type="radio">';
      const input = option.querySelector("input");
      Object.assign(input, { name: `right-${prediction.prediction_id}`, value: label, checked: i === 0 });
      option.append(` ${label}`);
      options.append(option);
    });
  }

  function setupFeedback(card, prediction) {
    const [yes, no, send, cancel] = [".fb-yes", ".fb-no", ".fb-send", ".fb-cancel"].map((s) => card.querySelector(s));
    const choice = card.querySelector(".fb-choice");
    const status = card.querySelector(".fb-status");
    card.querySelector(".feedback-question").textContent = t("was_it_right");
    yes.setAttribute("aria-label", t("feedback_yes"));
    yes.title = t("feedback_yes");
    no.setAttribute("aria-label", t("feedback_no"));
    no.title = t("feedback_no");
    no.setAttribute("aria-expanded", "false");
    choice.querySelector("legend").textContent = t("right_label");
    send.textContent = t("send");
    cancel.textContent = t("cancel");
    feedbackOptions(card, prediction);
    const toggleChoice = (open) => {
      choice.hidden = !open;
      no.setAttribute("aria-expanded", String(open));
      (open ? choice.querySelector("input:checked") || send : no).focus();
    };
    async function save(correct, label) {
      [yes, no, send, cancel].forEach((b) => (b.disabled = true));
      (correct ? yes : no).classList.add("chosen");
      status.className = "status fb-status";
      status.textContent = t("saving");
      try {
        await post("/v1/feedback", { prediction_id: prediction.prediction_id, correct, label });
        choice.hidden = true;
        status.textContent = correct ? t("saved_correct") : t("saved_incorrect", { label });
        status.classList.add("saved");
      } catch (err) {
        status.textContent = err.message;
        status.classList.add("error-text");
        (correct ? yes : no).classList.remove("chosen");
        [yes, no, send, cancel].forEach((b) => (b.disabled = false));
      }
    }
    yes.addEventListener("click", () => save(true, null));
    no.addEventListener("click", () => toggleChoice(choice.hidden));
    cancel.addEventListener("click", () => toggleChoice(false));
    choice.addEventListener("keydown", (event) => event.key === "Escape" && toggleChoice(false));
    send.addEventListener("click", () => save(false, choice.querySelector("input:checked")?.value ?? null));
  }

  function renderCard(text, prediction, index) {
    const card = $("result-template").content.firstElementChild.cloneNode(true);
    card.querySelector(".result-text").textContent = text;
    const badge = card.querySelector(".badge");
    badge.textContent = prediction.label;
    badge.classList.add(`tone-${toneOf(prediction.label)}`);
    renderBars(card.querySelector(".bars"), prediction.probabilities);
    const explained = index < config.explained_lines;
    card.querySelector(".legend").textContent = explained ? t("explaining") : t("not_explained", { n: config.explained_lines });
    if (prediction.sentences) renderSentences(card, prediction.sentences);
    setupFeedback(card, prediction);
    return card;
  }

  /** A line the model was not asked about, in its place among the results, saying why. */
  function renderRefused(entry) {
    const card = $("refused-template").content.firstElementChild.cloneNode(true);
    const chars = [...entry.text];
    const shown = chars.length > SHOWN_CHARS ? `${chars.slice(0, SHOWN_CHARS).join("")}…` : entry.text;
    card.querySelector(".result-text").textContent = shown;
    card.querySelector(".refused-reason").textContent = t("line_too_long", {
      line: entry.line, n: chars.length, max: config.max_text_chars,
    });
    return card;
  }

  // --- the text form -----------------------------------------------------------------------------
  let run = 0; // the latest submission: an older one stops explaining cards no longer shown

  /** The non-blank lines of the text box, numbered from 1 as the user sees them. */
  function entriesOf(value) {
    return value.split(/\r?\n/).map((text, i) => ({ line: i + 1, text })).filter((e) => e.text.trim());
  }

  async function onSubmit(event) {
    event.preventDefault();
    const mine = (run += 1);
    const entries = entriesOf($("texts").value);
    const results = $("results");
    results.replaceChildren(); // an error or a new answer never sits beside the previous results
    $("predict-status").textContent = "";
    showError($("predict-error"), "");
    if (!entries.length) {
      showError($("predict-error"), t("nothing_to_classify"));
      $("texts").focus();
      return;
    }
    const valid = entries.filter((e) => charCount(e.text) <= config.max_text_chars);
    $("predict-button").disabled = true;
    $("predict-status").textContent = t("classifying");
    results.setAttribute("aria-busy", "true");
    try {
      const texts = valid.map((e) => e.text);
      const predictions = texts.length ? await predictAll(texts, () => {}, $("split-sentences").checked) : [];
      if (mine !== run) return;
      const cards = valid.map((e, i) => renderCard(e.text, predictions[i], i));
      const byLine = new Map(valid.map((e, i) => [e.line, cards[i]]));
      results.replaceChildren(...entries.map((e) => byLine.get(e.line) ?? renderRefused(e)));
      results.setAttribute("aria-busy", "false");
      const refused = entries.length - valid.length;
      $("predict-status").textContent = refused
        ? t("results_partial", { n: cards.length, refused, max: config.max_text_chars })
        : t("results_count", { n: cards.length });
      for (let i = 0; i < Math.min(cards.length, config.explained_lines) && mine === run; i += 1) {
        await explainInto(cards[i], texts[i], predictions[i]); // one at a time: LIME is CPU-bound
      }
    } catch (err) {
      if (mine !== run) return;
      results.replaceChildren();
      $("predict-status").textContent = "";
      showError($("predict-error"), err.message);
    } finally {
      if (mine === run) {
        results.setAttribute("aria-busy", "false");
        $("predict-button").disabled = false;
      }
    }
  }

  /** An example button puts its text in the box (the language check runs on the input event). */
  function useExample(event) {
    const box = $("texts");
    box.value = event.currentTarget.dataset.text;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  }

  $("predict-form").addEventListener("submit", onSubmit);
  document.querySelectorAll("button.example").forEach((button) => button.addEventListener("click", useExample));
  $("texts").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("predict-form").requestSubmit();
  });
  window.nlpopsClassify = { predictAll };
})();
