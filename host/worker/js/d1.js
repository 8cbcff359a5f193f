// The host's `sql` capability on a Cloudflare D1 binding: statements and atomic
// batches from the store backend plugin, run as they are. No business SQL lives here.
//
// Values follow the WIT `sql.value` variant: integers travel as BigInt, blobs as
// Uint8Array. D1 hands numbers back as JS numbers, so an integral number is reported
// as `integer`; the backend decodes columns by name and type, as it does on SQLite.

/** Caps on what this host buffers for a plugin, the same as the native host's. */
const MAX_ROWS = 10_000;
const MAX_BATCH = 100;

/** Thrown to make the import return `err(sql-error)`: jco reads `payload`. */
class SqlFailure extends Error {
  constructor(kind, message, constraint) {
    super(message);
    this.payload = { kind, message, constraint };
  }
}

/** The WIT error kind a D1/SQLite error message stands for. */
export function errorKind(message) {
  const text = String(message);
  if (/UNIQUE constraint failed|PRIMARY KEY constraint failed/i.test(text)) return 'unique-violation';
  if (/FOREIGN KEY constraint failed/i.test(text)) return 'foreign-key-violation';
  if (/NOT NULL constraint failed/i.test(text)) return 'not-null-violation';
  if (/CHECK constraint failed/i.test(text)) return 'check-violation';
  if (/network|connection|unavailable|overloaded|timed? ?out|reset/i.test(text)) return 'connection';
  if (/syntax error|no such (table|column)|SQLITE_ERROR/i.test(text)) return 'query';
  return 'other';
}

function failure(err) {
  const message = err && err.message ? err.message : String(err);
  return new SqlFailure(errorKind(message), message, undefined);
}

/** A WIT value as a D1 bind parameter. */
function bindValue(value) {
  switch (value.tag) {
    case 'null':
      return null;
    case 'integer': {
      const n = Number(value.val);
      if (!Number.isSafeInteger(n)) {
        throw new SqlFailure('too-large', `integer ${value.val} is beyond what D1 binds exactly`);
      }
      return n;
    }
    case 'real':
      return value.val;
    case 'text':
      return value.val;
    case 'blob':
      return value.val.buffer.slice(value.val.byteOffset, value.val.byteOffset + value.val.byteLength);
    default:
      throw new SqlFailure('query', `unknown value tag ${value.tag}`);
  }
}

/** A D1 result value as a WIT value. */
function columnValue(v) {
  if (v === null || v === undefined) return { tag: 'null' };
  if (typeof v === 'number') {
    return Number.isInteger(v) ? { tag: 'integer', val: BigInt(v) } : { tag: 'real', val: v };
  }
  if (typeof v === 'bigint') return { tag: 'integer', val: v };
  if (typeof v === 'string') return { tag: 'text', val: v };
  if (v instanceof ArrayBuffer) return { tag: 'blob', val: new Uint8Array(v) };
  if (ArrayBuffer.isView(v)) return { tag: 'blob', val: new Uint8Array(v.buffer, v.byteOffset, v.byteLength) };
  if (Array.isArray(v)) return { tag: 'blob', val: Uint8Array.from(v) };
  return { tag: 'text', val: String(v) };
}

function prepare(db, stmt) {
  return db.prepare(stmt.sql).bind(...stmt.params.map(bindValue));
}

/** One D1 result (`{results, meta}`) as a WIT `query-result`. */
function queryResult(result) {
  const rows = result.results ?? [];
  if (rows.length > MAX_ROWS) {
    throw new SqlFailure('too-large', `a result may hold at most ${MAX_ROWS} rows`);
  }
  const columns = rows.length > 0 ? Object.keys(rows[0]) : [];
  return {
    columns,
    rows: rows.map((row) => columns.map((c) => columnValue(row[c]))),
    rowsAffected: BigInt(result.meta?.changes ?? 0),
  };
}

/** The `qhub:plugin/sql` import over the D1 binding `db`. */
export function sqlImport(db) {
  return {
    async query(stmt) {
      let result;
      try {
        result = await prepare(db, stmt).run();
      } catch (err) {
        throw err instanceof SqlFailure ? err : failure(err);
      }
      return queryResult(result);
    },
    async batch(stmts) {
      if (stmts.length > MAX_BATCH) {
        throw new SqlFailure('too-large', `a batch may hold at most ${MAX_BATCH} statements`);
      }
      let results;
      try {
        // D1 runs a batch as one transaction: all statements commit or none do.
        results = await db.batch(stmts.map((s) => prepare(db, s)));
      } catch (err) {
        throw err instanceof SqlFailure ? err : failure(err);
      }
      return results.map(queryResult);
    },
  };
}
