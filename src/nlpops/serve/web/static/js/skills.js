/* The Skills page: highlight the skills of a pasted posting by category; the demanded-skills report
   of an uploaded CSV of postings. Calls /v1/skills/extract and /v1/skills/report. */
"use strict";

(() => {
  const { config, t, post, showError, percent } = window.nlpops;
  const { parse } = window.nlpopsCsv;
  const $ = (id) => document.getElementById(id);
  const LABELS = config.skills_labels;
  const TEXT_COLUMNS = ["text", "description"];
  let table = null;

  /** An element with a class and text. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** The posting as text nodes and one <mark> per skill span (spans sorted, never overlapping). */
  function highlighted(text, skills) {
    const nodes = [];
    let at = 0;
    for (const span of [...skills].sort((a, b) => a.start - b.start)) {
      if (span.start < at) continue;
      nodes.push(document.createTextNode(text.slice(at, span.start)));
      const mark = el("mark", `skill skill-${span.label}`, text.slice(span.start, span.end));
      mark.title = `${t(`skills_label_${span.label}`)}: ${span.skill}`;
      mark.dataset.label = span.label;
      nodes.push(mark);
      at = span.end;
    }
    nodes.push(document.createTextNode(text.slice(at)));
    return nodes;
  }

  /** One legend item per category: its colour, name and number of mentions. */
  function legend(counts) {
    return LABELS.map((label) => {
      const item = el("li", `skill-key skill-${label}`);
      item.dataset.label = label;
      item.append(el("span", "skill-swatch"), el("span", "", t(`skills_label_${label}`)), " ");
      item.append(el("strong", "skill-count", String(counts[label] || 0)));
      return item;
    });
  }

  /** Per category, the distinct normalised skill names in order of first mention. */
  function lists(skills) {
    return LABELS.filter((label) => skills.some((s) => s.label === label)).map((label) => {
      const block = el("div", "skills-list");
      block.append(el("h3", "", t(`skills_label_${label}`)));
      const names = [...new Set(skills.filter((s) => s.label === label).map((s) => s.skill))];
      const ul = el("ul", "chips");
      ul.append(...names.map((name) => el("li", `chip skill-${label}`, name)));
      block.append(ul);
      return block;
    });
  }

  async function onExtract(event) {
    event.preventDefault();
    const text = $("posting").value;
    showError($("skills-error"), "");
    if (!text.trim()) {
      showError($("skills-error"), t("skills_empty"));
      return;
    }
    $("skills-button").disabled = true;
    $("skills-status").textContent = t("skills_finding");
    try {
      const body = await post("/v1/skills/extract", { text });
      const { skills, counts } = body.postings[0];
      $("skills-legend").replaceChildren(...legend(counts));
      $("skills-text").replaceChildren(...highlighted(text, skills));
      $("skills-lists").replaceChildren(...lists(skills));
      $("skills-result").hidden = false;
      $("skills-status").textContent = skills.length ? t("skills_found", { n: skills.length }) : t("skills_none");
    } catch (err) {
      $("skills-status").textContent = "";
      showError($("skills-error"), err.message);
    } finally {
      $("skills-button").disabled = false;
    }
  }

  async function onFile() {
    const file = $("report-file").files[0];
    showError($("report-error"), "");
    $("report-output").hidden = true;
    $("report-button").disabled = true;
    $("report-column-field").hidden = true;
    table = null;
    if (!file) return;
    try {
      table = parse(await file.text());
    } catch (err) {
      showError($("report-error"), t("err_csv", { detail: err.message }));
      return;
    }
    const select = $("report-column");
    select.replaceChildren(...table.header.map((name, i) => new Option(name, String(i))));
    const guess = table.header.findIndex((name) => TEXT_COLUMNS.includes(name.trim().toLowerCase()));
    select.value = String(guess === -1 ? 0 : guess);
    $("report-column-field").hidden = false;
    $("report-info").textContent = table.rows.length
      ? t("csv_rows", { rows: table.rows.length, cols: table.header.length }) : t("csv_empty");
    $("report-button").disabled = !table.rows.length || !config.skills_ready;
  }

  /** One category's table: skill, postings, share with a bar. */
  function demandTable(label, rows) {
    const block = el("div", "skills-demand");
    block.dataset.label = label;
    block.append(el("h3", "", t(`skills_label_${label}`)));
    if (!rows.length) {
      block.append(el("p", "help", t("skills_no_skill")));
      return block;
    }
    const tbl = el("table", "table");
    const head = el("tr");
    for (const [key, cls] of [["skills_skill", ""], ["skills_postings", "num"], ["skills_share", ""]]) {
      const th = el("th", cls, t(key));
      th.scope = "col";
      head.append(th);
    }
    tbl.createTHead().append(head);
    const body = tbl.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      tr.append(el("td", "", row.skill), el("td", "num", String(row.postings)));
      const share = el("td", "share");
      const track = el("span", `track skill-${label}`);
      const bar = el("span", "bar");
      bar.style.width = `${Math.round(100 * row.share)}%`;
      track.append(bar);
      share.append(track, el("span", "", percent.format(row.share)));
      tr.append(share);
    }
    block.append(tbl);
    return block;
  }

  async function onReport(event) {
    event.preventDefault();
    if (!table) return;
    const column = Number($("report-column").value);
    const texts = table.rows.map((row) => row[column] || "").filter((text) => text.trim());
    showError($("report-error"), "");
    if (texts.length > config.skills_max_postings) {
      showError($("report-error"), t("skills_too_many", { n: texts.length, max: config.skills_max_postings }));
      return;
    }
    $("report-button").disabled = true;
    $("report-status").textContent = t("skills_reporting", { n: texts.length });
    try {
      const body = await post("/v1/skills/report", { texts, top: 15 });
      $("report-output").replaceChildren(...LABELS.map((label) => demandTable(label, body.categories[label])));
      $("report-output").hidden = false;
      $("report-status").textContent = t("skills_report_done", { n: body.postings });
    } catch (err) {
      $("report-status").textContent = "";
      showError($("report-error"), err.message);
    } finally {
      $("report-button").disabled = false;
    }
  }

  $("skills-form").addEventListener("submit", onExtract);
  $("report-file").addEventListener("change", onFile);
  $("report-form").addEventListener("submit", onReport);
})();
