/**
 * BEGIN and COMMIT sent in the same round trip as a transaction's first and last statements. pg sends one
 * statement per round trip and waits for its answer (no pipelining), so a checkout's transaction paid two
 * extra round trips for BEGIN and COMMIT; each wakes both processes, which on a small machine costs more CPU
 * than the statements themselves. The simple query protocol takes several statements in one message, but no
 * parameters: a statement already prepared on the connection (a named one, see prepared.ts) is called there by
 * `EXECUTE name('literal', ...)`, each parameter written as a quoted literal of the text pg would have sent for
 * it, which PostgreSQL casts to the parameter's type exactly as it would a bound value. The plan stays the
 * cached one. The same message carries a transaction's deferred statements (Transaction.defer). When a
 * parameter is of a type not handled here, the statement is not prepared on that connection yet, or it carries a
 * secret (prepared(sql, { secret: true })), it goes bound in a round trip of its own, and BEGIN or COMMIT with
 * it go on their own too.
 */

/** A string as an SQL literal, valid whatever standard_conforming_strings says; undefined when it holds NUL. */
function quoted(text: string): string | undefined {
  // A NUL would end the query message early; pg would refuse it as a parameter anyway.
  if (text.includes('\0')) return undefined;
  const doubled = text.replaceAll("'", "''");
  return text.includes('\\') ? `E'${doubled.replaceAll('\\', '\\\\')}'` : `'${doubled}'`;
}

/** A one-dimensional array in PostgreSQL's array text form, as pg writes it; undefined for other elements. */
function arrayText(values: readonly unknown[]): string | undefined {
  const elements: string[] = [];
  for (const value of values) {
    if (value === null || value === undefined) elements.push('NULL');
    else if (typeof value === 'number' && Number.isFinite(value)) elements.push(String(value));
    else if (typeof value === 'string')
      elements.push(`"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`);
    else return undefined;
  }
  return `{${elements.join(',')}}`;
}

/** The parameter as a literal of the text pg sends for it; undefined for a type this module does not write. */
export function sqlLiteral(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'NULL';
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? `'${value}'` : undefined;
    case 'bigint':
      return `'${value}'`;
    case 'boolean':
      return value ? "'true'" : "'false'";
    case 'string':
      return quoted(value);
  }
  if (Array.isArray(value)) {
    const text = arrayText(value);
    return text === undefined ? undefined : quoted(text);
  }
  return undefined;
}

/** `EXECUTE name(...)` for a prepared statement and its parameters, or undefined when one cannot be written. */
export function executeText(name: string, params: readonly unknown[] | undefined): string | undefined {
  if (params === undefined || params.length === 0) return `EXECUTE ${name}`;
  const literals: string[] = [];
  for (const param of params) {
    const literal = sqlLiteral(param);
    if (literal === undefined) return undefined;
    literals.push(literal);
  }
  return `EXECUTE ${name}(${literals.join(', ')})`;
}
