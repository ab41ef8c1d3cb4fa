-- The feed records a transaction's changes in a scratch table and writes each change once, whole,
-- as the transaction commits. Until now a change was inserted without its position, then
-- rewritten at commit (a second row version and a second entry in each of the table's indexes),
-- and each change queued a trigger call of its own at commit (1,000 for a batch).
--
-- change_captures: what a transaction changed, one row per capture (a statement's enrolments in
-- one array). Rows live only inside their transaction: the seal consumes them before the commit
-- becomes visible, so the table is UNLOGGED (nothing in it survives a crash that was not void
-- anyway) and empty for every other reader.
CREATE UNLOGGED TABLE change_captures (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid          xid8   NOT NULL DEFAULT pg_current_xact_id(),
    resource_type text   NOT NULL,
    resource_ids  uuid[] NOT NULL
);
CREATE INDEX change_captures_txid_idx ON change_captures (txid);
-- Every row is deleted by the commit that made it: vacuum often, so the table stays a few pages.
ALTER TABLE change_captures SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_id := (to_jsonb(OLD) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    ELSE
        changed_id := (to_jsonb(NEW) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    END IF;
    INSERT INTO change_captures (resource_type, resource_ids) VALUES (TG_ARGV[0], ARRAY[changed_id]);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION capture_inserted_enrolments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO change_captures (resource_type, resource_ids)
    SELECT 'enrolment', array_agg(id ORDER BY id) FROM inserted HAVING count(*) > 0;
    RETURN NULL;
END $$;

-- One change other than an enrolment, at `at`, as migration 10's seal_one wrote it. A resource
-- whose row is gone is recorded as deleted.
CREATE FUNCTION seal_one(kind text, changed uuid, at bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    deleted  boolean;
    current  bigint;
    snapshot jsonb;
    owners   uuid[];
BEGIN
    CASE kind
    WHEN 'programme' THEN
        SELECT p.deleted_at IS NOT NULL, p.version, to_jsonb(p), ARRAY[p.id]
          INTO deleted, current, snapshot, owners
          FROM programmes p WHERE p.id = changed;
    WHEN 'collectivite' THEN
        SELECT c.deleted_at IS NOT NULL, c.version,
               to_jsonb(c) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code, 'joined_on', cp.joined_on) ORDER BY p.code)
                     FROM collectivite_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.collectivite_id = c.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               COALESCE((SELECT array_agg(cp.programme_id) FROM collectivite_programmes cp WHERE cp.collectivite_id = c.id), '{}')
          INTO deleted, current, snapshot, owners
          FROM collectivites c WHERE c.id = changed;
    WHEN 'chef_de_projet' THEN
        SELECT ch.deleted_at IS NOT NULL, ch.version,
               to_jsonb(ch) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM chef_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.chef_de_projet_id = ch.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               COALESCE((SELECT array_agg(cp.programme_id) FROM chef_programmes cp WHERE cp.chef_de_projet_id = ch.id), '{}')
          INTO deleted, current, snapshot, owners
          FROM chefs_de_projet ch WHERE ch.id = changed;
    WHEN 'training' THEN
        SELECT t.deleted_at IS NOT NULL, t.version,
               to_jsonb(t) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM training_programmes tp JOIN programmes p ON p.id = tp.programme_id
                    WHERE tp.training_id = t.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               training_programme_ids(t.id)
          INTO deleted, current, snapshot, owners
          FROM trainings t WHERE t.id = changed;
    WHEN 'session' THEN
        SELECT s.deleted_at IS NOT NULL, s.version, to_jsonb(s), training_programme_ids(s.training_id)
          INTO deleted, current, snapshot, owners
          FROM sessions s WHERE s.id = changed;
    END CASE;
    deleted := COALESCE(deleted, true);
    INSERT INTO changes (resource_type, resource_id, position, occurred_at, action, version, row_data, programme_ids)
    VALUES (kind, changed, at, clock_timestamp(),
            CASE WHEN deleted THEN 'delete' ELSE 'upsert' END, current,
            CASE WHEN deleted THEN NULL ELSE snapshot END, owners);
END $$;

-- Seals the committing transaction's changes: each resource once, enrolments first and set by
-- set, then the others, each group in the order its changes were captured. Positions come from
-- the sequence under the feed's lock, held until the commit is visible, so they remain in commit
-- order. Runs once per capture row; the first call consumes every capture of the transaction and
-- the later ones find nothing.
CREATE FUNCTION seal_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    enrolment_ids uuid[];
    other_types   text[];
    other_ids     uuid[];
    next_position bigint;
    places        jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM change_captures c WHERE c.txid = NEW.txid) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(7021450311);
    WITH consumed AS (
        DELETE FROM change_captures c WHERE c.txid = NEW.txid
        RETURNING c.id, c.resource_type, c.resource_ids
    ), first_captures AS (
        SELECT DISTINCT ON (c.resource_type, r.resource_id) c.resource_type, r.resource_id, c.id, r.n
          FROM consumed c CROSS JOIN unnest(c.resource_ids) WITH ORDINALITY AS r(resource_id, n)
         ORDER BY c.resource_type, r.resource_id, c.id, r.n
    )
    SELECT array_agg(f.resource_id ORDER BY f.id, f.n) FILTER (WHERE f.resource_type = 'enrolment'),
           array_agg(f.resource_type ORDER BY f.id, f.n) FILTER (WHERE f.resource_type <> 'enrolment'),
           array_agg(f.resource_id ORDER BY f.id, f.n) FILTER (WHERE f.resource_type <> 'enrolment')
      INTO enrolment_ids, other_types, other_ids
      FROM first_captures f;
    -- Only sealing takes positions, and only under the lock: a block of them is ours.
    next_position := nextval('change_position');
    IF enrolment_ids IS NOT NULL THEN
        -- Each enrolment is looked up by its key, row after row (LATERAL … OFFSET 0 keeps the
        -- planner from reordering): the statistics of the waitlists lag behind a rush of
        -- enrolments, and a plan built on them (one waitlisted row expected) looped over every
        -- waitlist of the database for every change (seen: 240 ms for one approval).
        -- Waitlist places, counted once per session whose waitlist holds one of them.
        SELECT jsonb_object_agg(q.id, q.place) INTO places
          FROM (SELECT DISTINCT x.session_id
                  FROM unnest(enrolment_ids) AS u(id)
                  CROSS JOIN LATERAL (SELECT e.session_id, e.status FROM enrolments e
                                       WHERE e.id = u.id OFFSET 0) AS x
                 WHERE x.status = 'waitlisted') AS s
          CROSS JOIN LATERAL (SELECT w.id, row_number() OVER (ORDER BY w.waitlist_order) AS place
                                FROM enrolments w
                               WHERE w.session_id = s.session_id AND w.status = 'waitlisted') AS q;
        INSERT INTO changes (resource_type, resource_id, position, occurred_at, action, version, row_data, programme_ids)
        SELECT 'enrolment', p.id, next_position + p.n - 1, clock_timestamp(),
               CASE WHEN e.id IS NULL THEN 'delete' ELSE 'upsert' END,
               e.version,
               CASE WHEN e.id IS NOT NULL THEN
                   to_jsonb(e) || jsonb_build_object('waitlist_position', (places ->> e.id::text)::bigint) END,
               CASE WHEN e.id IS NOT NULL THEN (
                   SELECT COALESCE(array_agg(cp.programme_id), '{}') FROM chef_programmes cp
                    WHERE cp.chef_de_projet_id = e.chef_de_projet_id) END
          FROM unnest(enrolment_ids) WITH ORDINALITY AS p(id, n)
          LEFT JOIN LATERAL (SELECT * FROM enrolments x WHERE x.id = p.id OFFSET 0) AS e ON true;
        next_position := next_position + cardinality(enrolment_ids);
    END IF;
    FOR i IN 1 .. COALESCE(cardinality(other_ids), 0) LOOP
        PERFORM seal_one(other_types[i], other_ids[i], next_position);
        next_position := next_position + 1;
    END LOOP;
    PERFORM setval('change_position', next_position - 1);
    PERFORM pg_notify('anct_changes', '');
    RETURN NULL;
END $$;

DROP TRIGGER changes_seal ON changes;
DROP FUNCTION seal_change();
DROP FUNCTION seal_one(changes);
CREATE CONSTRAINT TRIGGER change_captures_seal AFTER INSERT ON change_captures
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION seal_transaction();

-- Changes are written whole: nothing is pending in this table any more, and a change is known
-- by its position (webhook deliveries already name it so). One index fewer to write per change.
DROP INDEX changes_once_per_transaction;
ALTER TABLE changes
    ALTER COLUMN position SET NOT NULL,
    ALTER COLUMN action SET NOT NULL,
    ALTER COLUMN occurred_at SET NOT NULL,
    DROP CONSTRAINT changes_pkey,
    DROP CONSTRAINT changes_position_key,
    DROP COLUMN id,
    DROP COLUMN txid,
    ADD CONSTRAINT changes_pkey PRIMARY KEY (position);

-- An enrolment's history is read by enrolment, in order: that is the key (it was a second index
-- beside a key on the line's id alone).
DROP INDEX enrolment_transitions_enrolment_idx;
ALTER TABLE enrolment_transitions
    DROP CONSTRAINT enrolment_transitions_pkey,
    ADD CONSTRAINT enrolment_transitions_pkey PRIMARY KEY (enrolment_id, id);
