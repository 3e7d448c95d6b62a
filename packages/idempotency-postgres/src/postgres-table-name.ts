/** A plain SQL identifier: what the stores accept as a table or schema name. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A store's table, named by its options. @internal */
export interface PostgresTableName {
  /** The quoted, schema-qualified table name, for SQL. */
  readonly table: string;
  /** The advisory lock name serialising the creation of the table. */
  readonly lockName: string;
  /** `postgres table [schema.]table`, for messages. */
  readonly description: string;
}

/**
 * The table `table` in `schema` (default: the connection's `search_path`). A name that is not a
 * plain SQL identifier is added to `problems` (the caller throws one ConfigurationError for all).
 *
 * @param lockPrefix what the advisory lock name starts with (one per kind of store).
 * @internal
 */
export function postgresTableName(
  table: string,
  schema: string | undefined,
  lockPrefix: string,
  problems: string[],
): PostgresTableName {
  if (!IDENTIFIER.test(table)) problems.push(`table "${table}" is not a plain SQL identifier`);
  if (schema !== undefined && !IDENTIFIER.test(schema))
    problems.push(`schema "${schema}" is not a plain SQL identifier`);
  return {
    table: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`,
    lockName: `${lockPrefix}:${schema ?? ''}.${table}`,
    description: `postgres table ${schema === undefined ? '' : `${schema}.`}${table}`,
  };
}
