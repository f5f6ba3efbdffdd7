/**
 * (h) jobFacets as an admin, (i) jobFacets as a viewer limited to one customer, (j) a list page
 * filtered by attributes (GIN containment). The floors run the app's own SQL (facetsStatement,
 * the list statement) through pg and JSON-encode the rows.
 */
import type { Pool } from 'pg';
import { COMPACT_FACET_COUNTS_SQL, facetsStatement } from '../../src/jobs/facets/facet-counts';
import { listScenario } from './list-scenarios';
import { ADMIN, type BenchScenario, type ScenarioSet, VIEWER, VIEWER_SCOPE } from './scenarios';

/** The label the attribute scenario looks for; prepare() gives it to about one job in 128. */
const LABEL = { connector: 'oracle', environment: 'prod' } as const;

const FACETS = `query BenchFacets {
  jobFacets { types { value count } owners { value count } scopes { value count } statuses { value count } }
}`;

type FacetRow = { facet: string; value: string; count: number };

function facetScenario(id: string, title: string, user: string): BenchScenario {
  return {
    id,
    title,
    user,
    query: FACETS,
    variables: {},
    async floor({ pool, ability }) {
      const statement = facetsStatement(ability(user), null);
      return (await pool.query<FacetRow>(statement.text, statement.values)).rows;
    },
    check(data, floor) {
      const api = (data as { jobFacets: Record<string, Array<{ value: string; count: number }>> }).jobFacets;
      const flat = Object.keys(api)
        .sort()
        .flatMap((facet) => (api[facet] ?? []).map(({ value, count }) => ({ facet, value, count })));
      const expected = floor as FacetRow[];
      if (flat.length === 0) return 'the API answered no facets';
      return JSON.stringify(flat) === JSON.stringify(expected)
        ? undefined
        : `the facets differ: ${flat.length} values in the API, ${expected.length} in the floor`;
    },
    explain: ({ ability }) => {
      const { text, values } = facetsStatement(ability(user), null);
      return [{ text, values }];
    },
  };
}

export const facetScenarios: ScenarioSet<Record<string, never>> = {
  name: 'facets',
  async prepare(pool: Pool, print) {
    // Idempotent: the seed sets no attributes; label about 1 job in 128 once (GIN-indexed).
    const { rows } = await pool.query<{ labelled: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM jobs WHERE attributes @> $1::jsonb) AS labelled`,
      [JSON.stringify(LABEL)],
    );
    if (rows[0]?.labelled !== true) {
      const updated = await pool.query(
        `UPDATE jobs SET attributes = $1::jsonb WHERE attributes = '{}' AND (hashtext(id::text) & 127) = 0`,
        [JSON.stringify(LABEL)],
      );
      await pool.query('ANALYZE jobs');
      print(`facets: labelled ${updated.rowCount} jobs ${JSON.stringify(LABEL)}`);
    }
    // The rollup as the daemon keeps it (one row per key), not as a bulk seed leaves it.
    let folded = 0;
    for (;;) {
      const result = await pool.query(COMPACT_FACET_COUNTS_SQL);
      if ((result.rowCount ?? 0) === 0) break;
      folded += result.rowCount ?? 0;
    }
    const { rows: keys } = await pool.query<{ rows: number }>('SELECT count(*)::int AS rows FROM job_facet_counts');
    print(`facets: the rollup holds ${keys[0]?.rows ?? 0} rows${folded > 0 ? ` (folded into ${folded})` : ''}`);
    return {};
  },
  scenarios() {
    return [
      facetScenario('h', 'jobFacets (types, owners, scopes, statuses with counts)', ADMIN),
      facetScenario('i', `jobFacets as a viewer limited to "${VIEWER_SCOPE}"`, VIEWER),
      listScenario('j', `attributes ${JSON.stringify(LABEL)}, first page`, ADMIN, {
        filter: { attributes: LABEL },
        order: { field: 'CREATED_AT', direction: 'DESC' },
        first: 50,
        after: null,
      }),
    ];
  },
};
