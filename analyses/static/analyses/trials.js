// Draws a trial's comparison charts from the JSON the page embeds (#trial-data).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("trial-data").textContent);
  var blue = "rgb(54, 124, 196)", red = "rgb(205, 70, 70)", orange = "rgb(230, 150, 40)";
  var draw = window.adminChart;

  draw("chart-trial-scores", {
    type: "bar",
    data: {
      labels: data.bins,
      datasets: [
        { label: "current", data: data.before_distribution, backgroundColor: blue },
        { label: "trial", data: data.after_distribution, backgroundColor: orange },
      ],
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  draw("chart-trial-failures", {
    type: "bar",
    data: {
      labels: data.error_codes.length ? data.error_codes : ["no failures"],
      datasets: [{ label: "failed runs", data: data.error_codes.length ? data.error_counts : [0], backgroundColor: red }],
    },
    options: { indexAxis: "y", scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
  document.body.setAttribute("data-charts-ready", "true");
})();
