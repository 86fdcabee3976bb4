import { AppError } from './errors.js';

/**
 * Opaque keyset cursors: base64url of JSON `[sort, values...]`. The sort name inside stops a cursor from one
 * ordering being replayed against another; the decoder checks every value against its kind before SQL sees
 * it, so a forged cursor is a 400 and never a cast error in the database.
 */
export type CursorValue = string | number;
export type CursorKind = 'int' | 'decimal' | 'score' | 'timestamp' | 'text';

const checks: Record<CursorKind, (value: unknown) => boolean> = {
  int: (value) => Number.isSafeInteger(value),
  decimal: (value) => typeof value === 'string' && /^-?\d{1,12}(\.\d{1,2})?$/.test(value),
  // A relevance score in [0, 1] with up to six decimals (full-text rank, rounded so it round-trips exactly).
  score: (value) => typeof value === 'string' && /^[01](\.\d{1,6})?$/.test(value),
  timestamp: (value) =>
    typeof value === 'string' &&
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(value) &&
    !Number.isNaN(Date.parse(value)),
  text: (value) => typeof value === 'string' && value.length <= 400,
};

export function encodeCursor(sort: string, values: CursorValue[]): string {
  return Buffer.from(JSON.stringify([sort, ...values])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string, kinds: CursorKind[]): CursorValue[] {
  const invalid = () => new AppError('invalid_cursor', 'The cursor is malformed or belongs to another query');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== kinds.length + 1 || decoded[0] !== sort) throw invalid();
  const values: unknown[] = decoded.slice(1);
  if (!values.every((value, index) => checks[kinds[index] as CursorKind](value))) throw invalid();
  return values as CursorValue[];
}
