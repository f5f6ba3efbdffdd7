import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { useQuery } from 'urql';
import { graphql } from '../../gql';
import type { JobStatus } from '../../gql/graphql';
import { label } from '../../lib/format';
import { attributesText, listFilter, parseAttributes, type ListState } from '../../lib/jobs';

/**
 * The pickers' options with their counts: each facet counted over the list's filter without its
 * own criterion (choosing a type still shows the other types, with what they would hold).
 */
const Facets = graphql(`
  query JobFacets($types: JobFilter, $owners: JobFilter, $scopes: JobFilter, $statuses: JobFilter) {
    forTypes: jobFacets(filter: $types) {
      types {
        value
        count
      }
    }
    forOwners: jobFacets(filter: $owners) {
      owners {
        value
        count
      }
    }
    forScopes: jobFacets(filter: $scopes) {
      scopes {
        value
        count
      }
    }
    forStatuses: jobFacets(filter: $statuses) {
      statuses {
        value
        count
      }
    }
  }
`);

/** With no picker chosen, every facet counts the same jobs: one jobFacets answers all four. */
const FacetsAtOnce = graphql(`
  query JobFacetsAtOnce($filter: JobFilter) {
    jobFacets(filter: $filter) {
      types {
        value
        count
      }
      owners {
        value
        count
      }
      scopes {
        value
        count
      }
      statuses {
        value
        count
      }
    }
  }
`);

export function JobFilters({ state, set, version }: { state: ListState; set: (change: Partial<ListState>) => void; version: number }) {
  const variables = useMemo(
    () => ({
      types: listFilter({ ...state, types: [] }),
      owners: listFilter({ ...state, owners: [] }),
      scopes: listFilter({ ...state, scope: '' }),
      statuses: listFilter({ ...state, statuses: [] }),
    }),
    [state],
  );
  const atOnce = state.types.length === 0 && state.owners.length === 0 && state.scope === '' && state.statuses.length === 0;
  const [each, refetchEach] = useQuery({ query: Facets, variables, pause: atOnce });
  const [all, refetchAll] = useQuery({ query: FacetsAtOnce, variables: { filter: variables.types }, pause: !atOnce });
  // The counts follow the list's pushed changes (the page says when, at most once a second).
  const refetch = atOnce ? refetchAll : refetchEach;
  useEffect(() => {
    if (version > 0) refetch({ requestPolicy: 'network-only' });
  }, [version, refetch]);
  const data = atOnce
    ? all.data && {
        forTypes: all.data.jobFacets,
        forOwners: all.data.jobFacets,
        forScopes: all.data.jobFacets,
        forStatuses: all.data.jobFacets,
      }
    : each.data;

  const searchRef = useRef<HTMLInputElement>(null);
  // The field follows the URL (back button, a shared link) and is the user's between searches.
  const [name, setName] = useState(state.name);
  const [shownName, setShownName] = useState(state.name);
  if (shownName !== state.name) {
    setShownName(state.name);
    setName(state.name);
  }
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName)) {
        event.preventDefault();
        searchRef.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const search = (event: FormEvent) => {
    event.preventDefault();
    set({ name: name.trim() });
  };

  return (
    <form className="filters" role="search" onSubmit={search}>
      <label>
        Search by name
        <input
          ref={searchRef}
          type="search"
          name="q"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="Press / to search"
        />
      </label>
      <Picker label="Type" value={state.types.join(',')} options={data?.forTypes.types} onChange={(v) => set({ types: split(v) })} />
      <Picker label="Owner" value={state.owners.join(',')} options={data?.forOwners.owners} onChange={(v) => set({ owners: split(v) })} />
      <Picker label="Scope" value={state.scope} options={data?.forScopes.scopes} onChange={(v) => set({ scope: v })} />
      <Picker
        label="Status"
        value={state.statuses.join(',')}
        options={data?.forStatuses.statuses}
        show={label}
        onChange={(v) => set({ statuses: split(v) as JobStatus[] })}
      />
      <AttributeFilter value={state.attributes} onChange={(attributes) => set({ attributes })} />
      <label>
        Created from
        <input type="datetime-local" value={state.from} onChange={(e) => set({ from: e.target.value })} />
      </label>
      <label>
        to
        <input type="datetime-local" value={state.to} onChange={(e) => set({ to: e.target.value })} />
      </label>
      <button type="submit">Search</button>
    </form>
  );
}

type FacetCount = { readonly value: string; readonly count: number };

const split = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** A facet's values with their counts; a value in the URL that has no job (now) stays choosable. */
function Picker(props: {
  label: string;
  value: string;
  options: readonly FacetCount[] | undefined;
  show?: (value: string) => string;
  onChange: (value: string) => void;
}) {
  const show = props.show ?? ((v: string) => v);
  const options = props.options ?? [];
  const missing = props.value !== '' && !options.some((o) => o.value === props.value);
  return (
    <label>
      {props.label}
      <select value={props.value} onChange={(e) => props.onChange(e.target.value)} aria-busy={props.options === undefined}>
        <option value="">Any</option>
        {missing && <option value={props.value}>{split(props.value).map(show).join(', ')}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {show(o.value)} ({o.count.toLocaleString()})
          </option>
        ))}
      </select>
    </label>
  );
}

/** Attribute pairs as "key=value, key=value", applied on Enter or when the field is left. */
function AttributeFilter({
  value,
  onChange,
}: {
  value: ListState['attributes'];
  onChange: (value: Array<readonly [string, string]>) => void;
}) {
  const current = attributesText(value);
  const [text, setText] = useState(current);
  const [shown, setShown] = useState(current);
  if (shown !== current) {
    setShown(current);
    setText(current);
  }
  const apply = () => {
    const pairs = parseAttributes(text);
    if (attributesText(pairs) !== current) onChange(pairs);
    else setText(current);
  };
  return (
    <label>
      Attributes
      <input
        type="text"
        value={text}
        placeholder="env=prod, connector=oracle"
        onChange={(e) => setText(e.target.value)}
        onBlur={apply}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            apply();
          }
        }}
      />
    </label>
  );
}
