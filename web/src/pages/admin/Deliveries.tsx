import { useQuery } from 'urql';
import { graphql } from '../../gql';
import { label, localTime, utcTitle } from '../../lib/format';

const DeliveriesQuery = graphql(`
  query AdminAlertDeliveries($ruleId: ID!) {
    alertDeliveries(ruleId: $ruleId, first: 50) {
      id
      event
      jobId
      status
      attempts
      lastStatusCode
      lastError
      createdAt
      deliveredAt
    }
  }
`);

export function Deliveries({ ruleId }: { ruleId: string }) {
  const [{ data }] = useQuery({ query: DeliveriesQuery, variables: { ruleId } });
  return (
    <section className="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Delivery log</h2>
      {data?.alertDeliveries.length === 0 && <p className="empty">Nothing delivered yet.</p>}
      <table className="plain">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
          </tr>
        </thead>
        <tbody>
          {(data?.alertDeliveries ?? []).map((d) => (
            <tr key={d.id}>
              <td title={utcTitle(d.createdAt)}>{localTime(d.createdAt)}</td>
              <td>{label(d.event)}</td>
              <td>{label(d.status)}</td>
              <td>{d.attempts}</td>
              <td>
                {d.lastStatusCode ?? ''} {d.lastError ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
