// Scale charts: measurements whose names carry N (cached_growth_shared_n4) still form one line per series.
import { describe, expect, it } from "vitest";
import { measurementCharts } from "../../harness/report/svg-chart.ts";
import type { Measurement } from "../../harness/report/model.ts";

describe("measurementCharts", () => {
  it("draws one line per series even when each point has its own name", () => {
    const ms: Measurement[] = [1, 2, 4].flatMap((n) => [
      { name: `cached_growth_shared_n${n}`, value: 2 << 20, unit: "B", series: "shared", x: n, xLabel: "mounts (N)" },
      { name: `cached_growth_plain_n${n}`, value: n * (2 << 20), unit: "B", series: "plain", x: n, xLabel: "mounts (N)" },
    ]);
    const [chart] = measurementCharts(ms);
    expect(chart.kind).toBe("line");
    expect(chart.series.map((s) => s.name)).toEqual(["shared", "plain"]);
    expect(chart.series[1].points.map((p) => p.x)).toEqual([1, 2, 4]);
    expect(chart.title).toBe("cached_growth by mounts (N)");
  });
});
