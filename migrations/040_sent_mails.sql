-- One row per logical email that left through SMTP (or the .eml folder), keyed by its sender's idempotency
-- key ("order-12-confirmed"): a redelivered mail job finds its row and sends nothing.
CREATE TABLE sent_mails (
  key      text PRIMARY KEY CHECK (char_length(key) BETWEEN 1 AND 200),
  sent_at  timestamptz NOT NULL DEFAULT now()
);
