/** What travels in a message body: the outbox row's id (for idempotency and tracing), its type and payload. */
export interface JobEnvelope {
  id: number;
  type: string;
  payload: unknown;
}

export function encodeEnvelope(job: JobEnvelope): Buffer {
  return Buffer.from(JSON.stringify(job));
}

/** Parses a message body; null when it is not an envelope (such a message can only go to the dead queue). */
export function decodeEnvelope(body: Buffer): JobEnvelope | null {
  try {
    const value = JSON.parse(body.toString('utf8')) as Partial<JobEnvelope>;
    if (typeof value.id !== 'number' || typeof value.type !== 'string' || !('payload' in value)) return null;
    return { id: value.id, type: value.type, payload: value.payload };
  } catch {
    return null;
  }
}
