#include "infra/store/postgres_schema.hpp"

namespace certctl::store {

const char* const postgres_schema_sql = R"sql(
CREATE TABLE IF NOT EXISTS events (
  position BIGINT PRIMARY KEY,
  stream_id TEXT NOT NULL,
  stream_version BIGINT NOT NULL,
  event_id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  schema_version INTEGER NOT NULL,
  occurred_at BIGINT NOT NULL,
  principal TEXT NOT NULL,
  source_address TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT NOT NULL,
  payload TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  UNIQUE (stream_id, stream_version)
);
CREATE TABLE IF NOT EXISTS snapshots (
  stream_id TEXT PRIMARY KEY,
  stream_version BIGINT NOT NULL,
  schema_version INTEGER NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS commands (
  command_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL,
  position BIGINT NOT NULL
);
ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS position BIGINT NOT NULL DEFAULT 0;
ALTER TABLE snapshots ADD COLUMN IF NOT EXISTS hash TEXT NOT NULL DEFAULT '';
CREATE OR REPLACE FUNCTION certctl_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION 'events are append-only: % refused', TG_OP;
END
$fn$;
-- One round trip for what a batch must know before it is decided. VOLATILE (the default):
-- under READ COMMITTED each query below takes its snapshot after the lock is held, so it
-- sees every batch that committed before this one took the lock, as separate statements did.
CREATE OR REPLACE FUNCTION certctl_batch_state(lock_key bigint, stream_ids text[],
                                               command_ids text[])
RETURNS TABLE (r_kind text, r_id text, r_num bigint, r_text text)
LANGUAGE plpgsql VOLATILE AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  RETURN QUERY SELECT 'head'::text, NULL::text, e.position, e.hash
    FROM events e ORDER BY e.position DESC LIMIT 1;
  RETURN QUERY SELECT 'stream'::text, s.sid,
      (SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.sid), NULL::text
    FROM unnest(stream_ids) AS s(sid);
  RETURN QUERY SELECT 'command'::text, c.command_id, c.position, c.outcome
    FROM commands c WHERE c.command_id = ANY(command_ids);
END
$fn$;
-- A whole batch in one autocommit statement, so one round trip (DESIGN §7 group commit): under
-- the lock, check that the log is where the writer decided the batch (head position and hash,
-- the version of each of its streams, none of its new commands recorded) and insert; else
-- insert nothing and return what the writer must decide on instead (the rows of
-- certctl_batch_state). The statement's implicit transaction commits before the answer
-- arrives, so an acknowledged batch is durable as with BEGIN ... COMMIT.
--
-- Rechaining: when only the head moved (another node appended to other streams: every stream
-- of the batch is still at the version the writer assumed, stream_versions, and no command is
-- recorded), the decisions still hold; what changed is where the events go. If the writer sent
-- each event's canonical bytes cut around its position (e_before, e_after), the batch is
-- moved onto the actual head here: positions shifted, each hash recomputed as the writer
-- would (SHA-256 of prev_hash || before || position || after), and the events, positions and
-- hashes it wrote are returned ('chained' rows), instead of a second round trip.
DROP FUNCTION IF EXISTS certctl_append_batch(bigint, bigint, text, text[], text[], bigint[],
    text[], bigint[], text[], bigint[], text[], text[], integer[], bigint[], text[], text[],
    text[], text[], text[], text[], text[], text[], text[], bigint[]);
CREATE OR REPLACE FUNCTION certctl_append_batch(lock_key bigint, head_position bigint,
    head_hash text, stream_ids text[], stream_versions bigint[], check_ids text[],
    check_versions bigint[], command_ids text[], e_position bigint[], e_stream_id text[],
    e_stream_version bigint[], e_event_id text[], e_type text[], e_schema_version integer[],
    e_occurred_at bigint[], e_principal text[], e_source_address text[],
    e_correlation_id text[], e_causation_id text[], e_payload text[], e_prev_hash text[],
    e_hash text[], c_command_id text[], c_outcome text[], c_position bigint[],
    e_before text[], e_after text[])
RETURNS TABLE (r_kind text, r_id text, r_num bigint, r_text text)
LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
  cur_position bigint;
  cur_hash text;
  shift bigint;
  prev text;
  rechain boolean := false;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key);
  SELECT e.position, e.hash INTO cur_position, cur_hash
    FROM events e ORDER BY e.position DESC LIMIT 1;
  cur_position := coalesce(cur_position, 0);
  IF EXISTS (SELECT 1 FROM commands c WHERE c.command_id = ANY(command_ids)) THEN
    RETURN QUERY SELECT * FROM certctl_batch_state(lock_key, stream_ids, command_ids);
    RETURN;
  END IF;
  IF cur_position = head_position AND (cur_position = 0 OR cur_hash = head_hash) THEN
    -- Streams not in check_ids were read or written by the caller at head_position: an
    -- unchanged head (position and hash) means they are unchanged too.
    IF EXISTS (
         SELECT 1 FROM unnest(check_ids, check_versions) AS s(sid, v)
         WHERE coalesce((SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.sid),
                        0) <> s.v) THEN
      RETURN QUERY SELECT * FROM certctl_batch_state(lock_key, stream_ids, command_ids);
      RETURN;
    END IF;
  ELSIF cur_position > head_position AND cardinality(e_position) > 0
        AND cardinality(e_before) = cardinality(e_position)
        AND NOT EXISTS (
          SELECT 1 FROM unnest(stream_ids, stream_versions) AS s(sid, v)
          WHERE coalesce((SELECT max(e.stream_version) FROM events e WHERE e.stream_id = s.sid),
                         0) <> s.v) THEN
    rechain := true;
    shift := cur_position - head_position;
    prev := cur_hash;
    FOR i IN 1 .. cardinality(e_position) LOOP
      e_position[i] := e_position[i] + shift;
      e_prev_hash[i] := prev;
      prev := encode(sha256(convert_to(prev || e_before[i] || e_position[i]::text || e_after[i],
                                       'UTF8')), 'hex');
      e_hash[i] := prev;
    END LOOP;
    FOR i IN 1 .. coalesce(cardinality(c_position), 0) LOOP
      c_position[i] := c_position[i] + shift;
    END LOOP;
  ELSE
    RETURN QUERY SELECT * FROM certctl_batch_state(lock_key, stream_ids, command_ids);
    RETURN;
  END IF;
  INSERT INTO events (position, stream_id, stream_version, event_id, type, schema_version,
                      occurred_at, principal, source_address, correlation_id, causation_id,
                      payload, prev_hash, hash)
    SELECT * FROM unnest(e_position, e_stream_id, e_stream_version, e_event_id, e_type,
                         e_schema_version, e_occurred_at, e_principal, e_source_address,
                         e_correlation_id, e_causation_id, e_payload, e_prev_hash, e_hash);
  -- Most batches record no command; an empty INSERT still costs an executor start-up.
  IF cardinality(c_command_id) > 0 THEN
    INSERT INTO commands (command_id, outcome, position)
      SELECT * FROM unnest(c_command_id, c_outcome, c_position);
  END IF;
  IF rechain THEN
    RETURN QUERY SELECT 'chained'::text, NULL::text, p.pos, p.h
      FROM unnest(e_position, e_hash) AS p(pos, h);
  ELSE
    RETURN QUERY SELECT 'written'::text, NULL::text, NULL::bigint, NULL::text;
  END IF;
END
$fn$;
DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger
                 WHERE tgname = 'events_append_only' AND tgrelid = 'events'::regclass) THEN
    CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION certctl_events_append_only();
  END IF;
END
$do$;
)sql";

}  // namespace certctl::store
