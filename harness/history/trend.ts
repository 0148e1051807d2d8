// A figure over time as an SVG chart (harness/report/svg-chart.ts): one bar group per run, labelled
// with the kernel release and the run's date, oldest first; one series per case and figure. The value
// of a run is the median of its repetitions.
import { renderChart, type ChartSeries } from "../report/svg-chart.ts";
import type { TrendPoint } from "./query.ts";

/** Category label of a run: "7.2.13+deb14-amd64 2026-12-05 #3". */
export function runLabel(p: Pick<TrendPoint, "release" | "startedAt" | "runId">): string {
  return `${p.release} ${p.startedAt.slice(0, 10)} #${p.runId}`;
}

/** The chart's series (points of the first unit only: one axis) and the units left out. */
export function trendSeries(points: TrendPoint[]): { series: ChartSeries[]; unit: string; leftOut: string[] } {
  const unit = points[0]?.unit ?? "";
  const bySeries = new Map<string, ChartSeries>();
  for (const p of points.filter((q) => q.unit === unit)) {
    const name = `${p.caseId} ${p.figure}`;
    const s = bySeries.get(name) ?? { name, points: [] };
    s.points.push({ x: runLabel(p), y: p.value });
    bySeries.set(name, s);
  }
  const leftOut = [...new Set(points.filter((q) => q.unit !== unit).map((q) => `${q.caseId} ${q.figure} (${q.unit})`))];
  return { series: [...bySeries.values()], unit, leftOut };
}

export function trendChart(measurement: string, points: TrendPoint[]): string {
  const { series, unit } = trendSeries(points);
  const runs = new Set(points.map((p) => p.runId)).size;
  return renderChart(series, {
    kind: "bar",
    title: `${measurement} over ${runs} run(s)`,
    xLabel: "kernel release, date and run",
    yUnit: unit,
    width: Math.max(640, 90 * runs + 120),
  });
}
