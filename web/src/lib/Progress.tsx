import type { JobRowFragment } from '../gql/graphql';
import { useNow } from './clock';
import { duration, rate } from './format';

/** A progress bar with its percent (or "counting…"), rate, ETA and the stalled / slow marks. */
export function Progress({
  job,
  wide = false,
}: {
  job: Pick<JobRowFragment, 'progress' | 'status' | 'slowerThanUsual' | 'name'>;
  wide?: boolean;
}) {
  const now = useNow();
  const { progress } = job;
  const running = job.status === 'RUNNING';
  const stalled = running && progress.updatedAt != null && now - Date.parse(progress.updatedAt) > 5 * 60_000;
  const percent = progress.percent;
  return (
    <span className={`progress${wide ? ' wide' : ''}`}>
      {percent == null ? (
        <span className="muted">{running || job.status === 'CANCELLING' ? 'counting…' : ''}</span>
      ) : (
        <>
          <progress max={100} value={percent} aria-label={`${job.name}: ${percent.toFixed(0)}%`} />
          <span className="pct">{percent.toFixed(0)}%</span>
        </>
      )}
      {running && progress.ratePerMinute != null && <span className="muted"> {rate(progress.ratePerMinute, progress.unit)}</span>}
      {running && progress.etaSeconds != null && <span className="muted"> ETA {duration(progress.etaSeconds)}</span>}
      {stalled && <span className="flag"> stalled</span>}
      {job.slowerThanUsual && <span className="flag"> slower than usual</span>}
    </span>
  );
}
