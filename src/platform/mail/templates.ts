import type { Mail } from './mailer.js';

/**
 * The emails Bazaar sends, each as plain text and HTML from the same facts. Values are escaped for HTML;
 * amounts arrive as decimal strings ("19.99") and are shown as given, never through float arithmetic.
 */

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function layout(title: string, paragraphs: string[], action?: { label: string; url: string }): string {
  const body = paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n    ');
  const button = action
    ? `<p><a href="${escapeHtml(action.url)}" style="background:#1f6feb;color:#fff;padding:10px 16px;` +
      `border-radius:6px;text-decoration:none">${escapeHtml(action.label)}</a></p>`
    : '';
  return `<!doctype html>
<html><body style="font-family:system-ui,sans-serif;color:#1f2328;max-width:560px;margin:auto">
    <h1 style="font-size:20px">${escapeHtml(title)}</h1>
    ${body}
    ${button}
    <p style="color:#656d76;font-size:12px">Bazaar</p>
</body></html>
`;
}

export function passwordResetMail(input: { to: string; resetUrl: string; validMinutes: number }): Mail {
  const lines = [
    'Someone asked to reset the password of your Bazaar account.',
    `The link below works once, for ${input.validMinutes} minutes. If it was not you, ignore this email: your password stays as it is.`,
  ];
  return {
    to: input.to,
    subject: 'Reset your Bazaar password',
    text: `${lines.join('\n\n')}\n\n${input.resetUrl}\n`,
    html: layout('Reset your password', lines, { label: 'Choose a new password', url: input.resetUrl }),
  };
}

export function paymentFailedMail(input: {
  to: string;
  orderId: number;
  amount: string;
  reason: string;
}): Mail {
  const lines = [
    `We could not take the payment of ${input.amount} for order #${input.orderId}: ${input.reason}.`,
    'The order has been canceled and nothing was charged. Your items are back in stock, so you can order again with another card.',
  ];
  return {
    to: input.to,
    subject: `Payment for order #${input.orderId} failed`,
    text: `${lines.join('\n\n')}\n`,
    html: layout(`Payment for order #${input.orderId} failed`, lines),
  };
}
