// The admin pages' chart helper over the vendored Chart.js, shared by reports.js and trials.js.
// Animations are off so the charts are complete as soon as the page has loaded.
window.adminChart = function (id, config) {
  "use strict";
  var canvas = document.getElementById(id);
  var common = { animation: false, responsive: true, maintainAspectRatio: false };
  config.options = Object.assign({}, common, config.options || {});
  new Chart(canvas, config);
  canvas.setAttribute("data-rendered", "true");
};
