import { useState, type FormEvent } from 'react';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../../gql';
import { ConfirmDialog } from '../../lib/ConfirmDialog';
import { errorOf } from './errors';

export const RolesQuery = graphql(`
  query AdminRoles {
    roles {
      name
      description
      builtIn
      rules
      updatedAt
    }
  }
`);
const CreateRole = graphql(`
  mutation AdminCreateRole($input: RoleInput!) {
    createRole(input: $input) {
      name
    }
  }
`);
const UpdateRole = graphql(`
  mutation AdminUpdateRole($name: String!, $input: RoleInput!) {
    updateRole(name: $name, input: $input) {
      name
    }
  }
`);
const DeleteRole = graphql(`
  mutation AdminDeleteRole($name: String!) {
    deleteRole(name: $name)
  }
`);
export function Roles() {
  const [{ data, error }, refetch] = useQuery({ query: RolesQuery });
  const [editing, setEditing] = useState<{ name: string; original?: string; description: string; rules: string } | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const [, create] = useMutation(CreateRole);
  const [, update] = useMutation(UpdateRole);
  const [, remove] = useMutation(DeleteRole);
  const [deleting, setDeleting] = useState<string | undefined>();
  if (error !== undefined) return <p role="alert">{error.message}</p>;
  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (editing === undefined) return;
    let rules: unknown;
    try {
      rules = JSON.parse(editing.rules);
    } catch (e) {
      setProblem(`The rules are not valid JSON: ${(e as Error).message}`);
      return;
    }
    const input = { name: editing.name.trim(), description: editing.description, rules };
    const result = editing.original === undefined ? await create({ input }) : await update({ name: editing.original, input });
    const failed = errorOf(result);
    setProblem(failed);
    if (failed === undefined) {
      setEditing(undefined);
      refetch({ requestPolicy: 'network-only' });
    }
  };
  return (
    <div>
      <button
        type="button"
        onClick={() => (
          setProblem(undefined),
          setEditing({ name: '', description: '', rules: '[\n  { "action": "view_monitor", "subject": "Job" }\n]' })
        )}
      >
        New role
      </button>
      {editing !== undefined && (
        <form
          className="card stack"
          onSubmit={save}
          aria-label={editing.original === undefined ? 'New role' : `Edit role ${editing.original}`}
        >
          <label className="stack">
            Name
            <input type="text" value={editing.name} onChange={(e) => setEditing({ ...editing, name: e.target.value })} required />
          </label>
          <label className="stack">
            Description
            <input type="text" value={editing.description} onChange={(e) => setEditing({ ...editing, description: e.target.value })} />
          </label>
          <label className="stack">
            Rules (CASL, JSON)
            <textarea
              rows={8}
              spellCheck={false}
              value={editing.rules}
              onChange={(e) => setEditing({ ...editing, rules: e.target.value })}
              aria-describedby={problem ? 'role-problem' : undefined}
            />
          </label>
          {problem !== undefined && (
            <p role="alert" id="role-problem" className="error">
              {problem}
            </p>
          )}
          <div className="buttons">
            <button type="button" onClick={() => setEditing(undefined)}>
              Discard
            </button>
            <button type="submit">Save role</button>
          </div>
        </form>
      )}
      <table className="plain">
        <thead>
          <tr>
            <th scope="col">Role</th>
            <th scope="col">Description</th>
            <th scope="col">Rules</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(data?.roles ?? []).map((role) => (
            <tr key={role.name}>
              <td>
                {role.name}
                {role.builtIn && <span className="muted"> (built-in)</span>}
              </td>
              <td>{role.description}</td>
              <td>
                <code className="rules">{JSON.stringify(role.rules)}</code>
              </td>
              <td>
                {!role.builtIn && (
                  <>
                    <button
                      type="button"
                      aria-label={`Edit role ${role.name}`}
                      onClick={() => (
                        setProblem(undefined),
                        setEditing({
                          name: role.name,
                          original: role.name,
                          description: role.description,
                          rules: JSON.stringify(role.rules, null, 2),
                        })
                      )}
                    >
                      Edit
                    </button>{' '}
                    <button type="button" aria-label={`Delete role ${role.name}`} onClick={() => setDeleting(role.name)}>
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting !== undefined && (
        <ConfirmDialog
          title={`Delete the role ${deleting}?`}
          confirm="Delete role"
          onClose={() => setDeleting(undefined)}
          onConfirm={async () => {
            const failed = errorOf(await remove({ name: deleting }));
            if (failed === undefined) refetch({ requestPolicy: 'network-only' });
            return failed;
          }}
        />
      )}
    </div>
  );
}
