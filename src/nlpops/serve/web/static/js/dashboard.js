/* The dashboard: GET /v1/stats and GET /v1/model drawn as KPIs, three Chart.js charts and two tables. */
"use strict";

(() => {
  const { config, t, api, showError, percent } = window.nlpops;
  const $ = (id) => document.getElementById(id);
  const COLORS = { neg: "#dc2626", pos: "#16a34a", neutral: "#64748b" };
  const PALETTE = ["#2563eb", "#d97706", "#7c3aed", "#0891b2", "#db2777"];
  const number = new Intl.NumberFormat(config.lang);
  const hourLabel = new Intl.DateTimeFormat(config.lang, { weekday: "short", hour: "numeric" });
  const dateTime = new Intl.DateTimeFormat(config.lang, { dateStyle: "medium", timeStyle: "short" });
  const charts = {};

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

  /** Chart options shared by the three charts; `hours` are the buckets' dates, for the tooltips. */
  function options(hours, { stacked = false, percentScale = false, legend = true } = {}) {
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
        tooltip: { callbacks: { title: (items) => dateTime.format(hours[items[0].dataIndex]) } },
      },
    };
  }

  function drawPredictions(stats, labels, hours) {
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
    const chartOptions = options(hours, { stacked: true });
    draw("predictions", { type: "bar", data: { labels, datasets }, options: chartOptions }, summary);
  }

  function drawLine(key, labels, hours, values, color, summary) {
    const dataset = {
      label: t(`chart_${key}`), data: values, borderColor: color, backgroundColor: `${color}22`,
      fill: true, spanGaps: true, cubicInterpolationMode: "monotone", pointRadius: 3,
    };
    const chartOptions = options(hours, { percentScale: true, legend: false });
    draw(key, { type: "line", data: { labels, datasets: [dataset] }, options: chartOptions }, summary);
  }

  function drawCharts(stats) {
    const hours = stats.buckets.map((b) => new Date(b.hour));
    const labels = hours.map((h) => hourLabel.format(h));
    drawPredictions(stats, labels, hours);
    const negative = stats.negative_label
      ? (stats.total_predictions ? t("chart_summary_negative", { value: share(stats.negative_share) }) : t("chart_no_data"))
      : t("no_negative_label");
    drawLine("negative", labels, hours, stats.buckets.map((b) => asPercent(b.negative_share)), COLORS.neg, negative);
    const accuracy = stats.total_feedback
      ? t("chart_summary_accuracy", { value: share(stats.accuracy), n: number.format(stats.total_feedback) })
      : t("chart_no_data");
    drawLine("accuracy", labels, hours, stats.buckets.map((b) => asPercent(b.accuracy)), "#2563eb", accuracy);
  }

  function renderKpis(stats) {
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
    const metrics = Object.entries(model.metrics).sort(([a], [b]) => a.localeCompare(b));
    $("model-metrics").tBodies[0].replaceChildren(...metrics.map(([name, value]) => row([[name, "mono"], [value.toFixed(4), "num"]])));
    $("model-metrics").hidden = !metrics.length;
    $("model-no-metrics").hidden = Boolean(metrics.length);
  }

  async function load(event) {
    event?.preventDefault();
    showError($("dashboard-error"), "");
    try {
      const [stats, model] = await Promise.all([
        api(`/v1/stats?hours=${encodeURIComponent($("hours").value)}`),
        api("/v1/model").catch((err) => ({ error: err.message })), // no model yet: the stats still show
      ]);
      renderKpis(stats);
      drawCharts(stats);
      renderAlerts(stats.alerts);
      renderModel(model);
      $("updated").textContent = t("updated_at", { time: new Date().toLocaleTimeString(config.lang) });
    } catch (err) {
      showError($("dashboard-error"), err.message);
    }
  }

  $("period-form").addEventListener("submit", load);
  $("hours").addEventListener("change", load);
  load();
  setInterval(() => document.hidden || load(), 60_000); // a dashboard left open stays current
  window.nlpopsCharts = charts; // for tests and the curious: the Chart.js instances by key
})();
