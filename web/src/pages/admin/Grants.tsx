import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { ConfirmDialog } from '../../lib/ConfirmDialog';
import { localTime, utcTitle } from '../../lib/format';
import { errorOf } from './errors';
import { RolesQuery } from './Roles';

const GrantsQuery = graphql(`
  query AdminGrants($userId: String) {
    grants(userId: $userId) {
      id
      userId
      role
      scope
      grantedBy
      createdAt
    }
  }
`);
const GrantRole = graphql(`
  mutation AdminGrantRole($userId: String!, $role: String!, $scope: String) {
    grantRole(userId: $userId, role: $role, scope: $scope) {
      id
    }
  }
`);
const RevokeGrant = graphql(`
  mutation AdminRevokeGrant($id: ID!) {
    revokeGrant(id: $id)
  }
`);
export function Grants() {
  const [user, setUser] = useState('');
  const [filter, setFilter] = useState<string | undefined>();
  const [{ data, error }, refetch] = useQuery({ query: GrantsQuery, variables: { userId: filter ?? null } });
  const [roles] = useQuery({ query: RolesQuery });
  const [form, setForm] = useState({ userId: '', role: '', scope: '' });
  const [problem, setProblem] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const [, grant] = useMutation(GrantRole);
  const [, revoke] = useMutation(RevokeGrant);
  const [revoking, setRevoking] = useState<{ id: string; text: string } | undefined>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const failed = errorOf(
      await grant({ userId: form.userId.trim(), role: form.role, scope: form.scope.trim() === '' ? null : form.scope.trim() }),
    );
    setProblem(failed);
    if (failed === undefined) {
      setDone(`Granted ${form.role} to ${form.userId.trim()}${form.scope.trim() ? ` on ${form.scope.trim()}` : ''}.`);
      refetch({ requestPolicy: 'network-only' });
    }
  };
  return (
    <div>
      <form className="filters" onSubmit={submit} aria-label="Grant a role">
        <label>
          User
          <input type="text" value={form.userId} onChange={(e) => setForm({ ...form, userId: e.target.value })} required />
        </label>
        <label>
          Role
          <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })} required>
            <option value="">Choose…</option>
            {(roles.data?.roles ?? []).map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Scope (empty: everywhere)
          <input type="text" value={form.scope} onChange={(e) => setForm({ ...form, scope: e.target.value })} placeholder="acme/payments" />
        </label>
        <button type="submit">Grant role</button>
      </form>
      {problem !== undefined && (
        <p role="alert" className="error">
          {problem}
        </p>
      )}
      {done !== undefined && <p role="status">{done}</p>}
      <form
        className="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter(user.trim() === '' ? undefined : user.trim());
        }}
      >
        <label>
          Grants of user
          <input type="search" value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
        <button type="submit">Show</button>
      </form>
      {error !== undefined && <p role="alert">{error.message}</p>}
      <table className="plain">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Scope</th>
            <th scope="col">Granted by</th>
            <th scope="col">Since</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(data?.grants ?? []).map((g) => (
            <tr key={g.id}>
              <td>{g.userId}</td>
              <td>{g.role}</td>
              <td>{g.scope ?? 'everywhere'}</td>
              <td>{g.grantedBy ?? ''}</td>
              <td title={utcTitle(g.createdAt)}>{localTime(g.createdAt)}</td>
              <td>
                <button
                  type="button"
                  aria-label={`Revoke ${g.role} from ${g.userId}`}
                  onClick={() => setRevoking({ id: g.id, text: `${g.role} from ${g.userId}` })}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {revoking !== undefined && (
        <ConfirmDialog
          title={`Revoke ${revoking.text}?`}
          confirm="Revoke"
          onClose={() => setRevoking(undefined)}
          onConfirm={async () => {
            const failed = errorOf(await revoke({ id: revoking.id }));
            if (failed === undefined) refetch({ requestPolicy: 'network-only' });
            return failed;
          }}
        />
      )}
    </div>
  );
}
