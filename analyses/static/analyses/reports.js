// Draws the admin reports' charts from the JSON the page embeds (#report-data).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var blue = "rgb(54, 124, 196)", red = "rgb(205, 70, 70)", green = "rgb(60, 160, 90)";
  var draw = window.adminChart;

  draw("chart-daily", {
    type: "bar",
    data: {
      labels: data.days,
      datasets: [
        { label: "analyses", data: data.analyses, backgroundColor: blue },
        { label: "failed", data: data.failed, backgroundColor: red },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-score-daily", {
    type: "line",
    data: {
      labels: data.days,
      datasets: [
        { label: "average score", data: data.average_score, borderColor: green, backgroundColor: green, spanGaps: true },
      ],
    },
    options: { scales: { y: { min: 0, max: 100 } } },
  });
  draw("chart-scores", {
    type: "bar",
    data: { labels: data.bins, datasets: [{ label: "analyses", data: data.bin_counts, backgroundColor: green }] },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-failures", {
    type: "bar",
    data: {
      labels: data.error_codes.length ? data.error_codes : ["no failures"],
      datasets: [{ label: "failures", data: data.error_codes.length ? data.error_counts : [0], backgroundColor: red }],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  document.body.setAttribute("data-charts-ready", "true");
})();
