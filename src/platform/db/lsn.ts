/**
 * PostgreSQL WAL positions ("16/B374D848") as fixed-width hex strings: ordered the same way as bytes in the
 * WAL, so they compare with < and > as strings (in JavaScript and in a Redis script alike).
 */
export type Lsn = string;

export function parseLsn(text: string): Lsn {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!match) throw new Error(`not a WAL position: "${text}"`);
  return `${match[1]?.padStart(8, '0')}${match[2]?.padStart(8, '0')}`.toUpperCase();
}

export function lsnAtLeast(position: Lsn, wanted: Lsn): boolean {
  return position >= wanted;
}
