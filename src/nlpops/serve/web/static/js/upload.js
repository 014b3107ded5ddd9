/* The CSV section of the classify page: pick a file and its text column, classify, show, download. */
"use strict";

(() => {
  const { config, t, showError, toneOf, percent, charCount } = window.nlpops;
  const { decode, parse, serialize } = window.nlpopsCsv;
  const { predictAll } = window.nlpopsClassify;
  const $ = (id) => document.getElementById(id);
  const TEXT_COLUMNS = /^(text|texte|tweet|message|content|contenu|comment|commentaire)$/i;
  const SHOWN_ROWS = 200; // a longer table slows the page; the download has every row
  const SAMPLED_ROWS = 50; // rows read to tell whether a column holds sentences
  const SENTENCE = /\p{L}{2,}\s+\P{L}*\p{L}{2,}/u; // two words of letters at least
  const MIN_MEAN_CHARS = 15; // shorter on average: names, codes, categories rather than texts
  let table = null; // {header, rows} of the chosen file
  let downloadUrl = null;

  /** Whether a column holds sentences: most of its first non-empty cells have two words or more, and
   * they are not short (a city or a product name has two words too). */
  function holdsSentences(column) {
    const values = table.rows.map((row) => (row[column] ?? "").trim()).filter(Boolean).slice(0, SAMPLED_ROWS);
    if (!values.length) return false;
    const sentences = values.filter((v) => SENTENCE.test(v)).length;
    const meanChars = values.reduce((sum, v) => sum + charCount(v), 0) / values.length;
    return sentences >= values.length / 2 && meanChars >= MIN_MEAN_CHARS;
  }

  /** The column to classify: the one named like a text column, else the only one holding sentences;
   * -1 when neither settles it (the user then picks, rather than the page guessing). */
  function textColumn() {
    const named = table.header.findIndex((name) => TEXT_COLUMNS.test(name.trim()));
    if (named !== -1) return named;
    const withSentences = table.header.map((_, i) => i).filter(holdsSentences);
    return withSentences.length === 1 ? withSentences[0] : -1;
  }

  function resetFile() {
    table = null;
    showError($("csv-error"), "");
    $("csv-output").hidden = true;
    $("csv-button").disabled = true;
    $("csv-column-field").hidden = true;
    $("csv-column-help").hidden = true;
    $("csv-info").textContent = "";
  }

  async function onFile() {
    const file = $("csv-file").files[0];
    resetFile();
    if (!file) return;
    const text = decode(new Uint8Array(await file.arrayBuffer()));
    if (text === null) {
      showError($("csv-error"), t("err_csv_binary", { name: file.name }));
      return;
    }
    try {
      table = parse(text);
    } catch (err) {
      showError($("csv-error"), t("err_csv", { detail: err.message }));
      return;
    }
    const select = $("csv-column");
    const column = textColumn();
    const options = table.header.map((name, i) => new Option(name, String(i)));
    const pick = new Option(t("csv_pick"), "", true, true);
    pick.disabled = true;
    select.replaceChildren(...(column === -1 ? [pick] : []), ...options);
    select.value = column === -1 ? "" : String(column);
    $("csv-column-field").hidden = false;
    $("csv-column-help").hidden = column !== -1 || !table.rows.length;
    $("csv-info").textContent = table.rows.length
      ? t("csv_rows", { rows: table.rows.length, cols: table.header.length }) : t("csv_empty");
    $("csv-button").disabled = !table.rows.length || column === -1;
  }

  function onColumn() {
    $("csv-column-help").hidden = true;
    $("csv-button").disabled = !table || !table.rows.length || $("csv-column").value === "";
  }

  /** One outcome per row; blank and over-long texts are skipped here, or they would fail a whole batch. */
  function outcomesOf(column) {
    return table.rows.map((row, index) => {
      const text = row[column] ?? "";
      let skipped = null;
      if (!text.trim()) skipped = t("skipped_empty");
      else if (charCount(text) > config.max_text_chars) skipped = t("skipped_long", { max: config.max_text_chars });
      return { index, row, text, skipped, prediction: null };
    });
  }

  function cell(tr, text, className = "") {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    tr.append(td);
    return td;
  }

  function renderTable(outcomes) {
    const rows = outcomes.slice(0, SHOWN_ROWS).map((o) => {
      const tr = document.createElement("tr");
      cell(tr, String(o.index + 1), "num");
      cell(tr, o.text, "text-cell");
      const labelCell = cell(tr, "");
      if (o.prediction) {
        const badge = document.createElement("span");
        badge.className = `badge small tone-${toneOf(o.prediction.label)}`;
        badge.textContent = o.prediction.label;
        labelCell.append(badge);
      } else labelCell.textContent = o.skipped ?? "—";
      cell(tr, o.prediction ? percent.format(o.prediction.probabilities[o.prediction.label]) : "", "num");
      return tr;
    });
    $("csv-table").tBodies[0].replaceChildren(...rows);
    $("csv-showing").textContent = outcomes.length > SHOWN_ROWS
      ? t("csv_showing", { shown: SHOWN_ROWS, total: outcomes.length }) : "";
  }

  /** The file's own columns, then the prediction; `note` says why a row was skipped. */
  function offerDownload(outcomes) {
    const header = [...table.header, "predicted_label", "probability", "prediction_id", "note"];
    const rows = outcomes.map((o) => {
      const p = o.prediction;
      const cells = table.header.map((_, i) => o.row[i] ?? "");
      return [...cells, p?.label ?? "", p ? p.probabilities[p.label].toFixed(4) : "", p?.prediction_id ?? "", o.skipped ?? ""];
    });
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([serialize(header, rows)], { type: "text/csv;charset=utf-8" }));
    const name = ($("csv-file").files[0]?.name || "texts.csv").replace(/\.\w+$/, "");
    Object.assign($("csv-download"), { href: downloadUrl, download: `${name}-predictions.csv` });
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (!table || $("csv-column").value === "") return;
    const outcomes = outcomesOf(Number($("csv-column").value));
    const todo = outcomes.filter((o) => !o.skipped);
    const progress = $("csv-progress");
    Object.assign(progress, { max: Math.max(todo.length, 1), value: 0 });
    $("csv-progress-box").hidden = false;
    $("csv-button").disabled = true;
    showError($("csv-error"), "");
    let predicted = []; // kept when a later batch fails: the rows done so far are still shown
    const report = (done, soFar = []) => {
      predicted = soFar;
      progress.value = done;
      $("csv-status").textContent = t("csv_status", { done, total: todo.length });
    };
    report(0);
    try {
      await predictAll(todo.map((o) => o.text), report, false, "batch");
      $("csv-status").textContent = t("csv_done", { done: todo.length, skipped: outcomes.length - todo.length });
    } catch (err) {
      showError($("csv-error"), err.message);
    } finally {
      predicted.forEach((p, i) => (todo[i].prediction = p));
      renderTable(outcomes);
      offerDownload(outcomes);
      $("csv-output").hidden = false;
      $("csv-button").disabled = false;
    }
  }

  $("csv-file").addEventListener("change", onFile);
  $("csv-column").addEventListener("change", onColumn);
  $("csv-form").addEventListener("submit", onSubmit);
})();
