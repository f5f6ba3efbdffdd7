import type { JobDetailFragment as Job } from '../../gql/graphql';
import { duration, localTime, rate, utcTitle } from '../../lib/format';
import { Link } from '../../lib/router';

function Row({ name, value, title }: { name: string; value: React.ReactNode; title?: string | undefined }) {
  if (value === null || value === undefined || value === '') return null;
  return (
    <>
      <dt>{name}</dt>
      <dd title={title}>{value}</dd>
    </>
  );
}

export function Details({ job }: { job: Job }) {
  return (
    <section className="card" aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <dl className="details">
        <Row name="Id" value={job.id} />
        <Row name="Type" value={<Link href={`/types/${encodeURIComponent(job.type)}`}>{job.type}</Link>} />
        <Row name="Scope" value={job.scope} />
        <Row name="Asset" value={job.asset} />
        <Row name="Attributes" value={attributes(job.attributes)} />
        <Row name="Owner" value={job.ownerName ?? job.owner} />
        <Row name="Attempt" value={String(job.attempt)} />
        <Row name="Worker" value={job.workerId} />
        <Row name="Created" value={localTime(job.createdAt)} title={utcTitle(job.createdAt)} />
        <Row name="Scheduled" value={localTime(job.scheduledAt)} title={utcTitle(job.scheduledAt)} />
        <Row name="Start by" value={localTime(job.maxStartAt)} title={utcTitle(job.maxStartAt)} />
        <Row name="Started" value={localTime(job.startedAt)} title={utcTitle(job.startedAt)} />
        <Row name="Finished" value={localTime(job.finishedAt)} title={utcTitle(job.finishedAt)} />
        <Row name="Duration" value={duration(job.duration)} />
        <Row name="Previous run" value={duration(job.previousRunDuration)} />
        <Row name="Rate" value={rate(job.progress.ratePerMinute, job.progress.unit)} />
        <Row name="ETA" value={job.progress.etaSeconds == null ? '' : duration(job.progress.etaSeconds)} />
        <Row name="Message" value={job.message} />
        <Row name="Approvers" value={job.approvers.join(', ')} />
        <Row
          name="Cancel requested"
          value={job.cancelRequestedAt == null ? '' : `${localTime(job.cancelRequestedAt)} by ${job.cancelRequestedBy ?? '?'}`}
        />
        <Row name="Trap expires" value={localTime(job.trapExpiresAt)} />
        <Row name="Secrets" value={job.hasSecrets ? 'yes (write-only)' : ''} />
      </dl>
      <h3>Config</h3>
      <pre className="config">{JSON.stringify(job.config, null, 2)}</pre>
    </section>
  );
}

/** The creator's labels, "key=value" each (the same words the list's attribute filter takes). */
function attributes(value: unknown): string {
  if (typeof value !== 'object' || value === null) return '';
  return Object.entries(value)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(', ');
}
