-- Wakes the outbox relay as soon as a transaction that queued jobs commits (NOTIFY is delivered at commit and
-- folded to one per transaction), so an idle relay can sleep instead of polling.
CREATE FUNCTION outbox_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox_jobs', '');
  RETURN NULL;
END
$$;

CREATE TRIGGER outbox_jobs_notify AFTER INSERT ON outbox_jobs
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_jobs_notify();
