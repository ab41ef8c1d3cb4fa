-- Back to migration 10: changes inserted as they are captured, rewritten at commit.
ALTER TABLE enrolment_transitions
    DROP CONSTRAINT enrolment_transitions_pkey,
    ADD CONSTRAINT enrolment_transitions_pkey PRIMARY KEY (id);
CREATE INDEX enrolment_transitions_enrolment_idx ON enrolment_transitions (enrolment_id, id);

ALTER TABLE changes
    DROP CONSTRAINT changes_pkey,
    ADD CONSTRAINT changes_position_key UNIQUE (position),
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ALTER COLUMN position DROP NOT NULL,
    ALTER COLUMN action DROP NOT NULL,
    ALTER COLUMN occurred_at DROP NOT NULL;
-- The transactions of past changes are not known any more: the index covers pending changes
-- only, which is all the captures below ask of it.
CREATE UNIQUE INDEX changes_once_per_transaction ON changes (txid, resource_type, resource_id)
    WHERE position IS NULL;

DROP TRIGGER change_captures_seal ON change_captures;
DROP FUNCTION seal_transaction();
DROP FUNCTION seal_one(text, uuid, bigint);

CREATE OR REPLACE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_id := (to_jsonb(OLD) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    ELSE
        changed_id := (to_jsonb(NEW) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    END IF;
    INSERT INTO changes (resource_type, resource_id) VALUES (TG_ARGV[0], changed_id)
    ON CONFLICT (txid, resource_type, resource_id) WHERE position IS NULL DO NOTHING;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION capture_inserted_enrolments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (resource_type, resource_id)
    SELECT 'enrolment', id FROM inserted ORDER BY id
    ON CONFLICT (txid, resource_type, resource_id) WHERE position IS NULL DO NOTHING;
    RETURN NULL;
END $$;

CREATE FUNCTION seal_one(pending changes) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    deleted  boolean;
    current  bigint;
    snapshot jsonb;
    owners   uuid[];
BEGIN
    CASE pending.resource_type
    WHEN 'programme' THEN
        SELECT p.deleted_at IS NOT NULL, p.version, to_jsonb(p), ARRAY[p.id]
          INTO deleted, current, snapshot, owners
          FROM programmes p WHERE p.id = pending.resource_id;
    WHEN 'collectivite' THEN
        SELECT c.deleted_at IS NOT NULL, c.version,
               to_jsonb(c) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code, 'joined_on', cp.joined_on) ORDER BY p.code)
                     FROM collectivite_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.collectivite_id = c.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               (SELECT array_agg(cp.programme_id) FROM collectivite_programmes cp WHERE cp.collectivite_id = c.id)
          INTO deleted, current, snapshot, owners
          FROM collectivites c WHERE c.id = pending.resource_id;
        owners := COALESCE(owners, '{}');
    WHEN 'chef_de_projet' THEN
        SELECT ch.deleted_at IS NOT NULL, ch.version,
               to_jsonb(ch) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM chef_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.chef_de_projet_id = ch.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               (SELECT array_agg(cp.programme_id) FROM chef_programmes cp WHERE cp.chef_de_projet_id = ch.id)
          INTO deleted, current, snapshot, owners
          FROM chefs_de_projet ch WHERE ch.id = pending.resource_id;
        owners := COALESCE(owners, '{}');
    WHEN 'training' THEN
        SELECT t.deleted_at IS NOT NULL, t.version,
               to_jsonb(t) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM training_programmes tp JOIN programmes p ON p.id = tp.programme_id
                    WHERE tp.training_id = t.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               training_programme_ids(t.id)
          INTO deleted, current, snapshot, owners
          FROM trainings t WHERE t.id = pending.resource_id;
    WHEN 'session' THEN
        SELECT s.deleted_at IS NOT NULL, s.version, to_jsonb(s), training_programme_ids(s.training_id)
          INTO deleted, current, snapshot, owners
          FROM sessions s WHERE s.id = pending.resource_id;
    END CASE;
    UPDATE changes
       SET position = nextval('change_position'),
           occurred_at = clock_timestamp(),
           action = CASE WHEN deleted THEN 'delete' ELSE 'upsert' END,
           version = current,
           row_data = CASE WHEN deleted THEN NULL ELSE snapshot END,
           programme_ids = owners
     WHERE id = pending.id;
END $$;

CREATE FUNCTION seal_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    pending     changes;
    enrolments_pending bigint;
    first_position     bigint;
BEGIN
    IF (SELECT c.position FROM changes c WHERE c.id = NEW.id) IS NOT NULL THEN
        RETURN NULL; -- sealed with the rest of its transaction
    END IF;
    -- Held until the commit is visible: positions are handed out in commit order.
    PERFORM pg_advisory_xact_lock(7021450311);
    SELECT count(*) INTO enrolments_pending
      FROM changes c
     WHERE c.txid = NEW.txid AND c.position IS NULL AND c.resource_type = 'enrolment';
    IF enrolments_pending > 0 THEN
        -- A block of positions: only sealing takes positions, and only under the lock.
        first_position := nextval('change_position');
        IF enrolments_pending > 1 THEN
            PERFORM setval('change_position', first_position + enrolments_pending - 1);
        END IF;
        UPDATE changes c
           SET position = first_position + o.n - 1,
               occurred_at = clock_timestamp(),
               action = 'upsert',
               version = e.version,
               row_data = to_jsonb(e) || jsonb_build_object('waitlist_position', CASE WHEN e.status = 'waitlisted' THEN (
                   SELECT count(*) FROM enrolments w WHERE w.session_id = e.session_id
                      AND w.status = 'waitlisted' AND w.waitlist_order <= e.waitlist_order) END),
               programme_ids = CASE WHEN e.id IS NULL THEN NULL ELSE (
                   SELECT COALESCE(array_agg(cp.programme_id), '{}') FROM chef_programmes cp
                    WHERE cp.chef_de_projet_id = e.chef_de_projet_id) END
          FROM (SELECT p.id, p.resource_id, row_number() OVER (ORDER BY p.id) AS n
                  FROM changes p
                 WHERE p.txid = NEW.txid AND p.position IS NULL AND p.resource_type = 'enrolment') AS o
          LEFT JOIN enrolments e ON e.id = o.resource_id
         WHERE c.id = o.id;
    END IF;
    FOR pending IN
        SELECT * FROM changes c WHERE c.txid = NEW.txid AND c.position IS NULL ORDER BY c.id
    LOOP
        PERFORM seal_one(pending);
    END LOOP;
    PERFORM pg_notify('anct_changes', '');
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER changes_seal AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION seal_change();

DROP TABLE change_captures;
