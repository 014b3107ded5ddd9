/* The dashboard: GET /v1/stats and GET /v1/model drawn as KPIs, three Chart.js charts and two tables. */
"use strict";

(() => {
  const { config, t, api, showError, percent } = window.nlpops;
  const $ = (id) => document.getElementById(id);
  const COLORS = { neg: "#dc2626", pos: "#16a34a", neutral: "#64748b" };
  const PALETTE = ["#2563eb", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
  const number = new Intl.NumberFormat(config.lang);
  const hourLabel = new Intl.DateTimeFormat(config.lang, { weekday: "short", hour: "numeric" });
  // Day buckets are UTC days (GET /v1/stats sums hours per UTC day): dated in UTC, or a browser west of
  // Greenwich would show each day under the day before.
  const dayLabel = new Intl.DateTimeFormat(config.lang, { month: "short", day: "numeric", timeZone: "UTC" });
  const dayTitle = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeZone: "UTC" });
  // The model card: the few figures a business owner reads, by the run's metric names (test split).
  const CARD = [
    ["card_accuracy", "test_accuracy", "percent"], ["card_macro_f1", "test_macro_f1", "ratio"],
    ["card_roc_auc", "test_roc_auc", "ratio"], ["card_latency", "test_latency_p50_ms", "ms"],
    ["card_size", "size_mb", "mb"],
  ];
  const dateTime = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short" });
  const charts = {};
  let adminKey = ""; // typed by an admin to see example posts: in this page's memory only, never stored

  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#334155";
  Chart.defaults.animation = false; // instant redraws; no motion for those who asked for less

  const share = (value) => (value === null ? t("no_value") : percent.format(value));
  const asPercent = (value) => (value === null ? null : Math.round(value * 1000) / 10);

  function colorOf(label, negative, index) {
    if (label === negative) return COLORS.neg;
    const tone = /^(pos|positive|positif|satisfait|satisfied)$/i.test(label) ? "pos"
      : /^(neutral|neutre)$/i.test(label) ? "neutral" : null;
    return tone ? COLORS[tone] : PALETTE[index % PALETTE.length];
  }

  /** Draw (or redraw) chart `key`, and say in words what it shows, for screen readers too. */
  function draw(key, chartConfig, summary) {
    charts[key]?.destroy();
    const canvas = $(`chart-${key}`);
    charts[key] = new Chart(canvas, chartConfig);
    $(`chart-${key}-summary`).textContent = summary;
    canvas.setAttribute("aria-label", `${t(`chart_${key}`)}. ${summary}`);
  }

  /** Chart options shared by the three charts; `titles` are the buckets' dates, for the tooltips. */
  function options(titles, { stacked = false, percentScale = false, legend = true } = {}) {
    const y = percentScale ? { min: 0, max: 100, ticks: { callback: (v) => `${v} %` } }
      : { beginAtZero: true, ticks: { precision: 0 } };
    return {
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { stacked, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 24 } },
        y: { ...y, stacked },
      },
      plugins: {
        legend: { display: legend, position: "bottom", labels: { boxWidth: 12 } },
        tooltip: { callbacks: { title: (items) => titles[items[0].dataIndex] } },
      },
    };
  }

  function drawPredictions(stats, labels, titles) {
    const datasets = stats.labels.map((label, i) => ({
      label,
      data: stats.buckets.map((b) => b.predictions[label]),
      backgroundColor: colorOf(label, stats.negative_label, i),
      borderRadius: 2,
    }));
    const detail = stats.labels.map((l) => `${l} ${number.format(stats.buckets.reduce((s, b) => s + b.predictions[l], 0))}`);
    const summary = stats.total_predictions
      ? t("chart_summary_predictions", { total: number.format(stats.total_predictions), detail: detail.join(", ") })
      : t("chart_no_data");
    const chartOptions = options(titles, { stacked: true });
    draw("predictions", { type: "bar", data: { labels, datasets }, options: chartOptions }, summary);
  }

  function drawLine(key, labels, titles, values, color, summary) {
    const dataset = {
      label: t(`chart_${key}`), data: values, borderColor: color, backgroundColor: `${color}22`,
      fill: true, spanGaps: true, cubicInterpolationMode: "monotone", pointRadius: 3,
    };
    const chartOptions = options(titles, { percentScale: true, legend: false });
    draw(key, { type: "line", data: { labels, datasets: [dataset] }, options: chartOptions }, summary);
  }

  /** The negative share with the spike rule's baseline and threshold, spikes marked with triangles. */
  function drawNegative(stats, labels, titles, summary) {
    const spikes = stats.buckets.filter((b) => b.spike).length;
    const datasets = [
      {
        label: t("chart_negative"), data: stats.buckets.map((b) => asPercent(b.negative_share)),
        borderColor: COLORS.neg, backgroundColor: `${COLORS.neg}22`, fill: true, spanGaps: true,
        cubicInterpolationMode: "monotone",
        pointRadius: stats.buckets.map((b) => (b.spike ? 8 : 2)),
        pointStyle: stats.buckets.map((b) => (b.spike ? "triangle" : "circle")),
        pointBackgroundColor: stats.buckets.map((b) => (b.spike ? "#111827" : COLORS.neg)),
      },
      { label: t("chart_baseline"), data: stats.buckets.map((b) => asPercent(b.baseline_share)), borderColor: "#64748b", borderDash: [4, 4], pointRadius: 0, spanGaps: true },
      { label: t("chart_threshold"), data: stats.buckets.map((b) => asPercent(b.threshold_share)), borderColor: "#f59e0b", borderDash: [2, 3], pointRadius: 0, spanGaps: true },
    ];
    const text = spikes ? `${summary} ${t("chart_spikes", { n: spikes })}` : summary;
    draw("negative", { type: "line", data: { labels, datasets }, options: options(titles, { percentScale: true }) }, text);
  }

  function drawCharts(stats) {
    const byDay = stats.bucket === "day";
    const hours = stats.buckets.map((b) => new Date(b.hour));
    const labels = hours.map((h) => (byDay ? dayLabel : hourLabel).format(h));
    const titles = hours.map((h) => (byDay ? dayTitle : dateTime).format(h));
    $("dashboard-lead").textContent = t(byDay ? "dashboard_lead_day" : "dashboard_lead");
    drawPredictions(stats, labels, titles);
    $("chart-predictions-title").textContent = t(byDay ? "chart_predictions_day" : "chart_predictions");
    const negative = stats.negative_label
      ? (stats.total_predictions ? t("chart_summary_negative", { value: share(stats.negative_share) }) : t("chart_no_data"))
      : t("no_negative_label");
    drawNegative(stats, labels, titles, negative);
    const accuracy = stats.total_feedback
      ? t("chart_summary_accuracy", { value: share(stats.accuracy), n: number.format(stats.total_feedback) })
      : t("chart_no_data");
    drawLine("accuracy", labels, titles, stats.buckets.map((b) => asPercent(b.accuracy)), "#2563eb", accuracy);
  }

  function renderWindow(stats) {
    $("window-terms").textContent = stats.top_terms.length
      ? t("window_terms", { terms: stats.top_terms.join(", ") }) : t("window_no_terms");
    $("window-examples").replaceChildren(...stats.examples.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
    $("window-key-form").hidden = !stats.examples_hidden;
  }

  function renderDrift(drift) {
    const verdict = drift.drift_detected === null ? t("drift_none", { reason: drift.reason || "" })
      : drift.drift_detected ? t("drift_yes", { n: number.format(drift.n_current) }) : t("drift_no", { n: number.format(drift.n_current) });
    $("drift-status").textContent = verdict;
    $("kpi-drift").textContent = drift.drift_detected === null ? t("no_value") : drift.drift_detected ? t("drift_short_yes") : t("drift_short_no");
    $("kpi-drift").className = `kpi-value ${drift.drift_detected ? "bad" : ""}`;
    $("drift-features").tBodies[0].replaceChildren(...drift.features.map((f) => row([
      [f.feature, "mono"], [f.psi.toFixed(3), "num"], [f.drifted ? t("drift_short_yes") : t("drift_short_no"), f.drifted ? "bad" : ""],
    ])));
    $("drift-features").hidden = !drift.features.length;
  }

  function renderKpis(stats) {
    $("kpi-review").textContent = number.format(stats.review_queue);
    $("kpi-predictions").textContent = number.format(stats.total_predictions);
    $("kpi-negative").textContent = stats.negative_label ? share(stats.negative_share) : t("no_value");
    $("kpi-feedback").textContent = number.format(stats.total_feedback);
    $("kpi-accuracy").textContent = share(stats.accuracy);
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const [text, className] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (className) td.className = className;
      tr.append(td);
    }
    return tr;
  }

  function renderAlerts(alerts) {
    $("alerts").tBodies[0].replaceChildren(...alerts.map((a) => row([
      [dateTime.format(new Date(a.created_at)), "nowrap"], [a.message], [t("alert_count_value", { n: a.incorrect_count, min: a.window_min }), "num nowrap"],
    ])));
    $("alerts").hidden = !alerts.length;
    $("alerts-none").hidden = Boolean(alerts.length);
  }

  function renderModel(model) {
    const facts = $("model-facts");
    if (model.error) {
      facts.replaceChildren(Object.assign(document.createElement("dd"), { textContent: model.error }));
      return;
    }
    const pairs = [["model_name", model.name], ["model_version", model.version], ["model_alias", model.alias], ["model_classes", model.classes.join(", ")]];
    facts.replaceChildren(...pairs.flatMap(([key, value]) => [
      Object.assign(document.createElement("dt"), { textContent: t(key) }),
      Object.assign(document.createElement("dd"), { textContent: value || t("no_value"), className: "mono" }),
    ]));
    const card = CARD.filter(([, name]) => model.metrics[name] !== undefined).map(([key, name, kind]) => {
      const v = model.metrics[name];
      const shown = kind === "percent" ? percent.format(v) : kind === "ms" ? `${v.toFixed(2)} ms` : kind === "mb" ? `${v.toFixed(1)} MB` : v.toFixed(3);
      return [t(key), shown];
    });
    if (model.trained_on) card.push([t("card_trained_on"), model.trained_on]);
    if (model.trained_at) card.push([t("card_trained_at"), dateTime.format(new Date(model.trained_at))]);
    $("model-card").replaceChildren(...card.flatMap(([key, value]) => [
      Object.assign(document.createElement("dt"), { textContent: key }),
      Object.assign(document.createElement("dd"), { textContent: value }),
    ]));
    const metrics = Object.entries(model.metrics).sort(([a], [b]) => a.localeCompare(b));
    $("model-metrics").tBodies[0].replaceChildren(...metrics.map(([name, value]) => row([[name, "mono"], [value.toFixed(4), "num"]])));
    $("model-metrics").hidden = !metrics.length;
    $("model-no-metrics").hidden = Boolean(metrics.length);
  }

  async function load(event) {
    event?.preventDefault();
    showError($("dashboard-error"), "");
    try {
      const batch = $("include-batch").checked ? "&include_batch=true" : "";
      const [stats, model, drift] = await Promise.all([
        api(`/v1/stats?hours=${encodeURIComponent($("hours").value)}${batch}`, adminKey ? { headers: { "X-API-Key": adminKey } } : {}),
        api("/v1/model").catch((err) => ({ error: err.message })), // no model yet: the stats still show
        api("/v1/drift").catch(() => ({ drift_detected: null, features: [], reason: "" })),
      ]);
      renderKpis(stats);
      drawCharts(stats);
      renderAlerts(stats.alerts);
      renderWindow(stats);
      renderDrift(drift);
      renderModel(model);
      $("updated").textContent = t("updated_at", { time: new Date().toLocaleTimeString(config.lang) });
    } catch (err) {
      showError($("dashboard-error"), err.message);
    }
  }

  $("window-key-form").addEventListener("submit", (event) => {
    adminKey = $("window-key").value;
    $("window-key").value = "";
    load(event);
  });
  $("period-form").addEventListener("submit", load);
  $("hours").addEventListener("change", load);
  $("include-batch").addEventListener("change", load);
  load();
  setInterval(() => document.hidden || load(), 60_000); // a dashboard left open stays current
  window.nlpopsCharts = charts; // for tests and the curious: the Chart.js instances by key
})();
