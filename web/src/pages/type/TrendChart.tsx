import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TrendSeries {
  readonly label: string;
  /** A CSS custom property of the theme (light or dark): --accent, --ok, --warn, --bad. */
  readonly color: string;
  readonly values: ReadonlyArray<number | null>;
  readonly bars?: boolean;
  readonly dash?: boolean;
}

/** One uPlot chart over time (x in Unix seconds), in the theme's colours, resized with the window. */
export function TrendChart(props: {
  label: string;
  times: readonly number[];
  series: readonly TrendSeries[];
  format: (value: number) => string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const { label, times, series, format } = props;
  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const style = getComputedStyle(document.documentElement);
    const color = (name: string) => style.getPropertyValue(name).trim() || name;
    const bars = uPlot.paths.bars?.({ size: [0.6, 24] });
    const plot = new uPlot(
      {
        width: Math.max(320, element.clientWidth),
        height: 220,
        axes: [
          { stroke: color('--muted'), grid: { stroke: color('--line') } },
          { stroke: color('--muted'), grid: { stroke: color('--line') }, size: 72, values: (_u, ticks) => ticks.map(format) },
        ],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: color(s.color),
            ...(s.bars === true && bars !== undefined && { paths: bars, fill: color(s.color), points: { show: false } }),
            ...(s.dash === true && { dash: [4, 4] }),
            value: (_u: uPlot, v: number | null) => (v == null ? '' : format(v)),
          })),
        ],
      },
      [[...times], ...series.map((s) => [...s.values])] as uPlot.AlignedData,
      element,
    );
    const resize = () => plot.setSize({ width: Math.max(320, element.clientWidth), height: 220 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [times, series, format]);
  return <div ref={box} role="img" aria-label={label} className="chart" />;
}
