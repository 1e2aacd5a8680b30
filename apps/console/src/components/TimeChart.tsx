import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars rather than a line. */
  bars?: boolean;
}

/**
 * A time series chart drawn by uPlot, as wide as its container. uPlot draws on a canvas, which
 * a screen reader cannot read: `summary` says in words what it shows.
 */
export function TimeChart({
  title,
  times,
  series,
  unit,
  summary,
}: {
  title: string;
  times: number[];
  series: ChartSeries[];
  unit?: string;
  summary: string;
}) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current!;
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: 200,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
      axes: [
        { stroke: "#6b7280", grid: { stroke: "#eef0f3" }, ticks: { stroke: "#e5e7eb" } },
        {
          stroke: "#6b7280",
          grid: { stroke: "#eef0f3" },
          ticks: { stroke: "#e5e7eb" },
          size: 48,
          values: (_u, ticks) => ticks.map((t) => `${t}${unit ?? ""}`),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.bars ? 0 : 2,
          fill: s.bars ? s.color : `${s.color}22`,
          paths: s.bars ? uPlot.paths.bars!({ size: [0.7, 24] }) : undefined,
          // A lone minute with data would be invisible as a line: lines show their points.
          points: { show: !s.bars, size: 6, fill: s.color },
        })),
      ],
    };
    const chart = new uPlot(options, [times, ...series.map((s) => s.values)], element);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 200), height: 200 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [times, series, unit]);

  return (
    <figure class="card chart">
      <figcaption>{title}</figcaption>
      <div ref={holder} aria-hidden="true" />
      <p class="visually-hidden">{summary}</p>
    </figure>
  );
}
