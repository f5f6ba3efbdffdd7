import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import type { JobEventKind } from '../../gql/graphql';
import { label } from '../../lib/format';
import { Deliveries } from './Deliveries';
import { errorOf } from './errors';

const AlertRulesQuery = graphql(`
  query AdminAlertRules {
    alertRules {
      id
      name
      webhookUrl
      email
      events
      enabled
      createdAt
    }
  }
`);
const CreateAlertRule = graphql(`
  mutation AdminCreateAlertRule($input: AlertRuleInput!) {
    createAlertRule(input: $input) {
      secret
      rule {
        id
        name
      }
    }
  }
`);
const DeleteAlertRule = graphql(`
  mutation AdminDeleteAlertRule($id: ID!) {
    deleteAlertRule(id: $id)
  }
`);
const EVENTS: readonly JobEventKind[] = [
  'STARTED',
  'SUCCEEDED',
  'FAILED',
  'CANCELLED',
  'ABENDED',
  'EXPIRED',
  'REJECTED',
  'TRAPPED',
  'WAITING_APPROVAL',
  'SLOWER_THAN_USUAL',
];

export function AlertRules() {
  const [{ data, error }, refetch] = useQuery({ query: AlertRulesQuery });
  const [form, setForm] = useState({
    name: '',
    to: 'webhook' as 'webhook' | 'email',
    webhookUrl: '',
    email: '',
    events: new Set<JobEventKind>(['FAILED']),
  });
  const [problem, setProblem] = useState<string | undefined>();
  const [secret, setSecret] = useState<{ name: string; secret: string } | undefined>();
  const [created, setCreated] = useState<string | undefined>();
  const [log, setLog] = useState<string | undefined>();
  const [, create] = useMutation(CreateAlertRule);
  const [, remove] = useMutation(DeleteAlertRule);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    // A rule has one destination: a webhook (its deliveries signed with the secret) or an email address.
    const destination = form.to === 'webhook' ? { webhookUrl: form.webhookUrl.trim() } : { email: form.email.trim() };
    const result = await create({ input: { name: form.name.trim(), ...destination, events: [...form.events] } });
    const failed = errorOf(result);
    setProblem(failed);
    setSecret(undefined);
    setCreated(undefined);
    if (result.data) {
      const { rule, secret: signing } = result.data.createAlertRule;
      if (form.to === 'webhook') setSecret({ name: rule.name, secret: signing });
      else setCreated(`Alert rule ${rule.name} created: alerts go to ${form.email.trim()}.`);
      refetch({ requestPolicy: 'network-only' });
    }
  };
  return (
    <div>
      <form className="card stack" onSubmit={submit} aria-label="New alert rule">
        <label className="stack">
          Name
          <input type="text" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required />
        </label>
        <fieldset className="segmented">
          <legend>Send to</legend>
          {(['webhook', 'email'] as const).map((to) => (
            <label key={to}>
              <input type="radio" name="alert-to" value={to} checked={form.to === to} onChange={() => setForm({ ...form, to })} />{' '}
              {to === 'webhook' ? 'Webhook' : 'Email'}
            </label>
          ))}
        </fieldset>
        {form.to === 'webhook' ? (
          <label className="stack">
            Webhook URL
            <input
              type="url"
              value={form.webhookUrl}
              onChange={(e) => setForm({ ...form, webhookUrl: e.target.value })}
              required
              placeholder="https://hooks.example.com/jobwatch"
            />
          </label>
        ) : (
          <label className="stack">
            Email address
            <input
              type="email"
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.target.value })}
              required
              placeholder="oncall@example.com"
            />
          </label>
        )}
        <fieldset>
          <legend>Events</legend>
          {EVENTS.map((kind) => (
            <label key={kind} className="check">
              <input
                type="checkbox"
                checked={form.events.has(kind)}
                onChange={(e) => {
                  const events = new Set(form.events);
                  if (e.target.checked) events.add(kind);
                  else events.delete(kind);
                  setForm({ ...form, events });
                }}
              />{' '}
              {label(kind)}
            </label>
          ))}
        </fieldset>
        {problem !== undefined && (
          <p role="alert" className="error">
            {problem}
          </p>
        )}
        <button type="submit">Create alert rule</button>
      </form>
      {secret !== undefined && (
        <div className="card" role="status">
          <p>
            The signing secret of <strong>{secret.name}</strong>, shown only now: store it with the receiver.
          </p>
          <pre data-testid="alert-secret">{secret.secret}</pre>
        </div>
      )}
      {created !== undefined && <p role="status">{created}</p>}
      {error !== undefined && <p role="alert">{error.message}</p>}
      <table className="plain">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Sends to</th>
            <th scope="col">Events</th>
            <th scope="col">Enabled</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(data?.alertRules ?? []).map((rule) => (
            <tr key={rule.id}>
              <td>{rule.name}</td>
              <td>{rule.email != null ? `email ${rule.email}` : (rule.webhookUrl ?? '')}</td>
              <td>{rule.events.map(label).join(', ')}</td>
              <td>{rule.enabled ? 'yes' : 'no'}</td>
              <td>
                <button type="button" aria-label={`Delivery log of ${rule.name}`} onClick={() => setLog(rule.id)}>
                  Deliveries
                </button>{' '}
                <button
                  type="button"
                  aria-label={`Delete alert rule ${rule.name}`}
                  onClick={async () => {
                    if (errorOf(await remove({ id: rule.id })) === undefined) refetch({ requestPolicy: 'network-only' });
                  }}
                >
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {log !== undefined && <Deliveries ruleId={log} />}
    </div>
  );
}
