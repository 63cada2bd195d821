/* global window, document */
// Draws every <canvas data-chart="id"> from the JSON block with that id (served as a file so the pages
// run under a strict Content-Security-Policy). Chart.js is /static/chart.umd.js, from node_modules.
(function () {
  'use strict';
  var palette = ['#0969da', '#1a7f37', '#cf222e', '#9a6700', '#8250df', '#bf3989', '#1b7c83', '#57606a'];
  function draw() {
    if (typeof window.Chart !== 'function') return;
    document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
      var source = document.getElementById(canvas.getAttribute('data-chart'));
      if (!source) return;
      var spec = JSON.parse(source.textContent || '{}');
      var datasets = (spec.datasets || []).map(function (d, i) {
        var color = palette[i % palette.length];
        return Object.assign({ backgroundColor: color, borderColor: color, spanGaps: true }, d);
      });
      var indexAxis = spec.indexAxis || 'x';
      var scales = {};
      // A quantity that cannot be negative (spec.min: 0) keeps its value axis at zero even when its data is
      // flat, where Chart.js would otherwise centre the axis on the value (e.g. -1 to 1 around a lag of 0).
      if (typeof spec.min === 'number')
        scales[indexAxis === 'y' ? 'x' : 'y'] = { beginAtZero: true, min: spec.min };
      new window.Chart(canvas, {
        type: spec.type || 'bar',
        data: { labels: spec.labels || [], datasets: datasets },
        options: {
          indexAxis: indexAxis,
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          scales: scales,
          plugins: { legend: { display: datasets.length > 1 } },
        },
      });
      canvas.setAttribute('data-drawn', 'true');
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
  else draw();
})();
