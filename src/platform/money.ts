/**
 * Exact money arithmetic. Amounts travel as decimal strings with two places ("19.99", as numeric columns come
 * back from the database); sums and products are done in integer cents as bigint, never in JS floats.
 */
const AMOUNT = /^(-?)(\d+)(?:\.(\d{1,2}))?$/;

export function toCents(amount: string): bigint {
  const match = AMOUNT.exec(amount);
  if (!match) throw new Error(`Not a money amount: "${amount}"`);
  const cents = BigInt(match[2] as string) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] === '-' ? -cents : cents;
}

export function formatCents(cents: bigint): string {
  const sign = cents < 0n ? '-' : '';
  const absolute = cents < 0n ? -cents : cents;
  return `${sign}${absolute / 100n}.${String(absolute % 100n).padStart(2, '0')}`;
}

/** price x quantity, exactly. */
export function lineTotal(price: string, quantity: number): string {
  return formatCents(toCents(price) * BigInt(quantity));
}

export function sumAmounts(amounts: readonly string[]): string {
  return formatCents(amounts.reduce((sum, amount) => sum + toCents(amount), 0n));
}
