// A tiny, dependency-free chart generator producing standalone SVG strings: line charts (one line per
// series over numeric x) and grouped bar charts (categories x series). Axes with ticks and unit labels,
// a legend, values scaled to human units (B -> KiB/MiB/GiB). Also turns series measurements into charts.
import type { Measurement } from "./model.ts";
import { formatNumber, humanScale } from "./common.ts";

export interface ChartPoint {
  x: number | string; // number for line charts, category label for bar charts
  y: number;
}
export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}
export interface ChartOptions {
  kind?: "line" | "bar";
  title?: string;
  xLabel?: string;
  /** Unit of y values as given (e.g. "B"); the axis shows the scaled unit (e.g. "MiB"). */
  yUnit?: string;
  width?: number;
  height?: number;
}

export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** About `count` round tick values covering [min, max] (steps of 1, 2, 2.5 or 5 times a power of 10). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (min === max) {
    if (min === 0) return [0, 1];
    [min, max] = min > 0 ? [0, max] : [min, 0];
  }
  const raw = (max - min) / Math.max(1, count);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const start = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= max + step * (1 - 1e-9); v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Render a chart. Returns a complete <svg> element (with xmlns, so it also works as a file). */
export function renderChart(series: ChartSeries[], opts: ChartOptions = {}): string {
  const kind = opts.kind ?? (series.every((s) => s.points.every((p) => typeof p.x === "number")) ? "line" : "bar");
  const W = opts.width ?? 640;
  const H = opts.height ?? 320;
  const legendH = 18 * Math.ceil(series.length / 3);
  const M = { left: 72, right: 16, top: opts.title ? 32 : 14, bottom: 46 + legendH };
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;

  const ys = series.flatMap((s) => s.points.map((p) => p.y)).filter(Number.isFinite);
  const maxAbs = ys.length ? Math.max(...ys.map(Math.abs)) : 0;
  const scale = humanScale(opts.yUnit ?? "", maxAbs);
  const yTicks = niceTicks(Math.min(0, ...ys.map((y) => y * scale.factor)), Math.max(0, ...ys.map((y) => y * scale.factor)));
  const y0 = yTicks[0];
  const y1 = yTicks[yTicks.length - 1];
  const py = (y: number) => M.top + ph - ((y * scale.factor - y0) / (y1 - y0 || 1)) * ph;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" font-family="sans-serif" font-size="11">`,
  );
  if (opts.title) out.push(`<title>${escapeXml(opts.title)}</title>`);
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  if (opts.title)
    out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(opts.title)}</text>`);

  // y axis: grid, ticks, unit label
  for (const t of yTicks) {
    const y = py(t / scale.factor).toFixed(1);
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatNumber(t))}</text>`);
  }
  if (scale.unit)
    out.push(`<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(scale.unit)}</text>`);

  // x axis
  const axisY = M.top + ph;
  out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${axisY}" y2="${axisY}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${axisY}" stroke="#333"/>`);
  if (opts.xLabel)
    out.push(`<text x="${M.left + pw / 2}" y="${axisY + 32}" text-anchor="middle">${escapeXml(opts.xLabel)}</text>`);

  const tip = (s: ChartSeries, p: ChartPoint) =>
    `<title>${escapeXml(`${s.name}: ${p.x} → ${formatNumber(p.y * scale.factor)}${scale.unit ? ` ${scale.unit}` : ""}`)}</title>`;

  if (kind === "line") {
    const xs = series.flatMap((s) => s.points.map((p) => Number(p.x))).filter(Number.isFinite);
    const distinct = [...new Set(xs)].sort((a, b) => a - b);
    const xTicks =
      distinct.length <= 12 && distinct.every(Number.isInteger) ? distinct : niceTicks(Math.min(...xs), Math.max(...xs));
    const x0 = Math.min(...xTicks, ...xs);
    const x1 = Math.max(...xTicks, ...xs);
    const px = (x: number) => M.left + (x1 === x0 ? pw / 2 : ((x - x0) / (x1 - x0)) * pw);
    for (const t of xTicks) {
      const x = px(t).toFixed(1);
      out.push(`<line x1="${x}" x2="${x}" y1="${axisY}" y2="${axisY + 4}" stroke="#333"/>`);
      out.push(`<text x="${x}" y="${axisY + 16}" text-anchor="middle">${escapeXml(formatNumber(t))}</text>`);
    }
    series.forEach((s, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const pts = s.points.filter((p) => Number.isFinite(Number(p.x)) && Number.isFinite(p.y)).sort((a, b) => Number(a.x) - Number(b.x));
      const d = pts.map((p) => `${px(Number(p.x)).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ");
      if (pts.length > 1) out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${d}"/>`);
      for (const p of pts)
        out.push(`<circle cx="${px(Number(p.x)).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${colour}">${tip(s, p)}</circle>`);
    });
  } else {
    const cats = [...new Set(series.flatMap((s) => s.points.map((p) => String(p.x))))];
    const band = pw / Math.max(1, cats.length);
    const bw = (band * 0.8) / Math.max(1, series.length);
    cats.forEach((cat, ci) => {
      const cx = M.left + band * (ci + 0.5);
      out.push(`<text x="${cx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle">${escapeXml(cat)}</text>`);
      series.forEach((s, si) => {
        const p = s.points.find((q) => String(q.x) === cat);
        if (!p || !Number.isFinite(p.y)) return;
        const top = Math.min(py(p.y), py(0));
        const h = Math.abs(py(p.y) - py(0));
        const x = M.left + band * ci + band * 0.1 + bw * si;
        out.push(
          `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}">${tip(s, p)}</rect>`,
        );
      });
    });
  }

  // legend, three entries per row under the x axis label
  series.forEach((s, i) => {
    const lx = M.left + (i % 3) * (pw / 3);
    const ly = axisY + 46 + Math.floor(i / 3) * 18;
    out.push(`<rect x="${lx}" y="${ly - 8}" width="12" height="10" fill="${PALETTE[i % PALETTE.length]}"/>`);
    out.push(`<text x="${lx + 16}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

export interface MeasurementChart {
  title: string;
  unit: string;
  kind: "line" | "bar";
  series: ChartSeries[];
  /** X-axis label: the first `xLabel` among the chart's measurements. */
  xLabel?: string;
}

/**
 * Charts for a case's series measurements: one chart per unit; one line per series label (per
 * "series / name" if a label is used by several measurement names). Points with x make a line chart,
 * otherwise bars by measurement name. Measurements without `series` are not charted.
 */
export function measurementCharts(ms: Measurement[]): MeasurementChart[] {
  const byUnit = new Map<string, Measurement[]>();
  for (const m of ms) {
    if (m.series === undefined) continue;
    if (!byUnit.has(m.unit)) byUnit.set(m.unit, []);
    byUnit.get(m.unit)!.push(m);
  }
  const charts: MeasurementChart[] = [];
  for (const [unit, list] of byUnit) {
    const names = [...new Set(list.map((m) => m.name))];
    const line = list.every((m) => m.x !== undefined);
    // A line series is one `series` label; names split it only when two of them share an x.
    const multiName = line && new Set(list.map((m) => `${m.series}\0${m.x}`)).size < list.length;
    const xLabel = list.find((m) => m.xLabel !== undefined)?.xLabel;
    const series = new Map<string, ChartPoint[]>();
    for (const m of list) {
      const key = multiName ? `${m.series} / ${m.name}` : m.series!;
      if (!series.has(key)) series.set(key, []);
      series.get(key)!.push({ x: line ? m.x! : m.name, y: m.value });
    }
    charts.push({
      title: names.length <= 3 ? names.join(", ") : line && xLabel ? `${commonPrefix(names) || unit} by ${xLabel}` : `${names.length} measurements`,
      unit,
      kind: line ? "line" : "bar",
      series: [...series].map(([name, points]) => ({ name, points })),
      ...(xLabel !== undefined && { xLabel }),
    });
  }
  return charts;
}

/** The shared leading part of measurement names, without a trailing separator ("cached_growth_n1", "cached_ideal_n1" -> "cached"). */
function commonPrefix(names: string[]): string {
  let p = names[0] ?? "";
  for (const n of names) while (!n.startsWith(p)) p = p.slice(0, -1);
  return p.replace(/[_.\- ]+$/, "");
}
