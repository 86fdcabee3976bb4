-- The runner's next claim also marks done the jobs it finished since its last one (platform/jobs/runner.ts):
-- a finished job costs no statement of its own. The marks come first, so the claim that follows never sees
-- them as running. A mark matches the attempt that ran (the fencing token): a job whose lease expired and that
-- another runner claimed again since is left to that runner.
CREATE FUNCTION settle_and_claim_jobs(done_ids bigint[], done_attempts integer[], job_types text[],
                                      max_jobs integer, lease_ms double precision)
  RETURNS TABLE (id bigint, type text, payload jsonb, attempts integer)
  LANGUAGE plpgsql
  AS $$
#variable_conflict use_column
BEGIN
  IF cardinality(done_ids) > 0 THEN
    UPDATE outbox_jobs j
       SET status = 'done', locked_until = NULL, updated_at = now()
      FROM unnest(done_ids, done_attempts) AS d(id, attempts)
     WHERE j.id = d.id AND j.attempts = d.attempts AND j.status = 'running';
  END IF;
  IF max_jobs > 0 THEN
    RETURN QUERY SELECT c.id, c.type, c.payload, c.attempts FROM claim_due_jobs(job_types, max_jobs, lease_ms) c;
  END IF;
END
$$;
