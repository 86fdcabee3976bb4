import type { Mail } from '../../platform/mail/mailer.js';
import { lineTotal } from '../../platform/money.js';
import type { OrderRow } from './repo.js';

/** The order emails, as text and HTML. Amounts are the decimal strings stored with the order. */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function lines(order: OrderRow) {
  return order.items.map((item) => ({
    name: item.product_name || `Product ${item.product_id}`,
    quantity: item.quantity,
    price: item.price,
    total: lineTotal(item.price, item.quantity),
  }));
}

export function confirmationMail(order: OrderRow, to: string, name: string): Mail {
  const rows = lines(order);
  const text = [
    `Hello ${name},`,
    '',
    `Thank you for your order #${order.id}. Your payment was received.`,
    '',
    ...rows.map((row) => `${row.quantity} x ${row.name} at ${row.price} = ${row.total}`),
    '',
    `Total: ${order.total_amount}`,
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(name)},</p>
<p>Thank you for your order #${order.id}. Your payment was received.</p>
<table>
<tr><th align="left">Item</th><th align="right">Quantity</th><th align="right">Price</th><th align="right">Total</th></tr>
${rows
  .map(
    (row) =>
      `<tr><td>${escapeHtml(row.name)}</td><td align="right">${row.quantity}</td>` +
      `<td align="right">${row.price}</td><td align="right">${row.total}</td></tr>`,
  )
  .join('\n')}
<tr><td colspan="3" align="right"><strong>Total</strong></td><td align="right"><strong>${order.total_amount}</strong></td></tr>
</table>`;
  return { to, subject: `Order #${order.id} confirmed`, text, html };
}

export function paymentFailedMail(order: OrderRow, to: string, name: string): Mail {
  const text = [
    `Hello ${name},`,
    '',
    `The payment of ${order.total_amount} for your order #${order.id} was declined, so the order was canceled`,
    'and nothing was charged. You are welcome to order again with another card.',
  ].join('\n');
  const html = `<p>Hello ${escapeHtml(name)},</p>
<p>The payment of ${order.total_amount} for your order #${order.id} was declined, so the order was canceled
and nothing was charged. You are welcome to order again with another card.</p>`;
  return { to, subject: `Order #${order.id}: payment declined`, text, html };
}
