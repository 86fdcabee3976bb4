import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  raw: string;
  to: string[];
}

/**
 * A real SMTP server on a free port that keeps what it accepts. `hold` makes it stall before answering the
 * DATA of the next message, so a test can kill the sender in the middle of a send.
 */
export async function startSmtpSink() {
  const received: ReceivedMail[] = [];
  let holdNext = false;
  let held: (() => void) | null = null;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const accept = () => {
          received.push({
            raw: Buffer.concat(chunks).toString('utf8'),
            to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          });
          callback();
        };
        if (holdNext) {
          holdNext = false;
          held = () => callback(new Error('sender went away'));
        } else {
          accept();
        }
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    /** Stall the next message's DATA; resolves once one is stalled. */
    hold: () => {
      holdNext = true;
    },
    isHolding: () => held !== null,
    close: () =>
      new Promise<void>((resolve) => {
        held?.();
        server.close(() => resolve());
      }),
  };
}
