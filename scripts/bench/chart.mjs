/** A plain SVG bar chart of every figure that has a numeric target (value against target). */
export function chart(report) {
  const figures = report.results.flatMap((r) => r.figures.map((f) => ({ ...f, bench: r.id })));
  const rowHeight = 26;
  const width = 760;
  const left = 330;
  const max = Math.max(2, ...figures.map((f) => f.value));
  const scale = (v) => ((width - left - 60) * v) / max;
  const rows = figures.map((f, i) => {
    const y = 40 + i * rowHeight;
    const color = f.pass === undefined ? '#8a8f98' : f.pass ? '#2f9e44' : '#e03131';
    const target = /([<>]=)\s*([\d.]+)/.exec(f.target);
    const marker = target ? `<line x1="${left + scale(Number(target[2]))}" x2="${left + scale(Number(target[2]))}" y1="${y - 4}" y2="${y + 18}" stroke="#000" stroke-dasharray="3,2"/>` : '';
    return `<text x="${left - 8}" y="${y + 13}" text-anchor="end" font-size="12">${escape(f.name)}</text>
<rect x="${left}" y="${y}" width="${Math.max(1, scale(f.value))}" height="16" fill="${color}"/>${marker}
<text x="${left + scale(f.value) + 6}" y="${y + 13}" font-size="12">${f.value}</text>`;
  });
  const height = 60 + figures.length * rowHeight;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" font-size="14" font-weight="bold">${escape(`Sidecar benchmarks, ${report.date.slice(0, 10)}, ${report.machine.cpus} cores, Node ${report.machine.node}`)} (ratios; dashed line = target)</text>
${rows.join('\n')}
</svg>
`;
}

const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
