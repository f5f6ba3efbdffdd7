import { useMemo, useState } from 'react';
import { graphql } from '../../gql';
import type { TrendBucket, TypeTrendQuery } from '../../gql/graphql';
import { duration } from '../../lib/format';
import { Link, useTitle } from '../../lib/router';
import { TrendChart, type TrendSeries } from './TrendChart';
import { useKeptQuery } from '../../lib/useKeptQuery';

const TypeStats = graphql(`
  query TypeStats($type: String!) {
    jobTypeStats(type: $type) {
      type
      count
      succeeded
      failed
      successRate
      p50Duration
      p95Duration
    }
  }
`);

const TypeTrend = graphql(`
  query TypeTrend($type: String!, $bucket: TrendBucket!, $from: DateTime!) {
    jobTypeTrend(type: $type, bucket: $bucket, from: $from) {
      start
      runs
      succeeded
      failed
      p50Seconds
      p95Seconds
    }
  }
`);

/** Each bucket's window: two days by the hour, a month by the day. */
const WINDOWS: Record<TrendBucket, { hours: number; per: string }> = {
  HOUR: { hours: 48, per: 'per hour, last 48 hours' },
  DAY: { hours: 30 * 24, per: 'per day, last 30 days' },
};

/** A job type: its recent runs' statistics, and runs, failures and p50/p95 durations over time. */
export function TypePage({ type }: { type: string }) {
  useTitle(type);
  const [{ data, error }] = useKeptQuery({ query: TypeStats, variables: { type } });
  // The window starts at a fixed instant, chosen with the bucket: the query's variables stay the same between renders.
  const [trend, setTrend] = useState(() => windowOf('HOUR'));
  if (error !== undefined && data === undefined) return <p role="alert">{error.message}</p>;
  const stats = data?.jobTypeStats;
  return (
    <section>
      <p>
        <Link href={`/?type=${encodeURIComponent(type)}`}>← Jobs of this type</Link>
      </p>
      <h1>Type {type}</h1>
      <div className="type-layout">
        {stats === undefined ? (
          <p aria-busy="true">Loading…</p>
        ) : (
          <dl className="details card">
            <dt>Recent finished runs</dt>
            <dd>{stats.count}</dd>
            <dt>Succeeded</dt>
            <dd>{stats.succeeded}</dd>
            <dt>Failed</dt>
            <dd>{stats.failed}</dd>
            <dt>Success rate</dt>
            <dd>{stats.successRate == null ? '' : `${(stats.successRate * 100).toFixed(1)}%`}</dd>
            <dt>Duration p50</dt>
            <dd>{duration(stats.p50Duration)}</dd>
            <dt>Duration p95</dt>
            <dd>{duration(stats.p95Duration)}</dd>
          </dl>
        )}
        <Trend type={type} bucket={trend.bucket} from={trend.from} onBucket={(bucket) => setTrend(windowOf(bucket))} />
      </div>
    </section>
  );
}

const count = (value: number) => (Number.isInteger(value) ? value.toLocaleString() : '');
const seconds = (value: number) => duration(value);

function windowOf(bucket: TrendBucket) {
  return { bucket, from: new Date(Date.now() - WINDOWS[bucket].hours * 3_600_000).toISOString() };
}

function Trend(props: { type: string; bucket: TrendBucket; from: string; onBucket: (bucket: TrendBucket) => void }) {
  const { type, bucket, from, onBucket } = props;
  const [{ data, error }] = useKeptQuery({ query: TypeTrend, variables: { type, bucket, from } });
  const charts = useMemo(() => (data === undefined ? undefined : chartsOf(data.jobTypeTrend)), [data]);
  const per = WINDOWS[bucket].per;
  return (
    <section className="card trend" aria-labelledby="trend-title">
      <h2 id="trend-title">Trend</h2>
      <fieldset className="segmented">
        <legend>Per</legend>
        {(['HOUR', 'DAY'] as const).map((b) => (
          <label key={b}>
            <input type="radio" name="bucket" value={b} checked={bucket === b} onChange={() => onBucket(b)} />{' '}
            {b === 'HOUR' ? 'Hour' : 'Day'}
          </label>
        ))}
      </fieldset>
      {error !== undefined && <p role="alert">{error.message}</p>}
      {charts === undefined ? (
        <p aria-busy="true">Loading…</p>
      ) : charts.runs === 0 ? (
        <p className="empty">No run finished in this window.</p>
      ) : (
        <>
          <h3>Runs and failures</h3>
          <TrendChart label={`Runs and failures ${per}`} times={charts.times} series={charts.counts} format={count} />
          <h3>Duration</h3>
          <TrendChart label={`Duration p50 and p95 ${per}`} times={charts.times} series={charts.durations} format={seconds} />
        </>
      )}
    </section>
  );
}

function chartsOf(points: TypeTrendQuery['jobTypeTrend']) {
  const times = points.map((p) => Date.parse(p.start) / 1000);
  const counts: TrendSeries[] = [
    { label: 'runs', color: '--accent', values: points.map((p) => p.runs), bars: true },
    { label: 'failed', color: '--bad', values: points.map((p) => p.failed), bars: true },
  ];
  const durations: TrendSeries[] = [
    { label: 'p50', color: '--ok', values: points.map((p) => p.p50Seconds ?? null) },
    { label: 'p95', color: '--warn', values: points.map((p) => p.p95Seconds ?? null), dash: true },
  ];
  return { times, counts, durations, runs: points.reduce((sum, p) => sum + p.runs, 0) };
}
