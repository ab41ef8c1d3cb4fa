-- Back to migration 4's seal, one trigger call per change.
CREATE OR REPLACE FUNCTION seal_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    deleted  boolean;
    current  bigint;
    snapshot jsonb;
    owners   uuid[];
BEGIN
    -- Held until the commit is visible: positions are handed out in commit order.
    PERFORM pg_advisory_xact_lock(7021450311);
    CASE NEW.resource_type
    WHEN 'programme' THEN
        SELECT p.deleted_at IS NOT NULL, p.version, to_jsonb(p), ARRAY[p.id]
          INTO deleted, current, snapshot, owners
          FROM programmes p WHERE p.id = NEW.resource_id;
    WHEN 'collectivite' THEN
        SELECT c.deleted_at IS NOT NULL, c.version,
               to_jsonb(c) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code, 'joined_on', cp.joined_on) ORDER BY p.code)
                     FROM collectivite_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.collectivite_id = c.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               (SELECT array_agg(cp.programme_id) FROM collectivite_programmes cp WHERE cp.collectivite_id = c.id)
          INTO deleted, current, snapshot, owners
          FROM collectivites c WHERE c.id = NEW.resource_id;
        owners := COALESCE(owners, '{}');
    WHEN 'chef_de_projet' THEN
        SELECT ch.deleted_at IS NOT NULL, ch.version,
               to_jsonb(ch) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM chef_programmes cp JOIN programmes p ON p.id = cp.programme_id
                    WHERE cp.chef_de_projet_id = ch.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               (SELECT array_agg(cp.programme_id) FROM chef_programmes cp WHERE cp.chef_de_projet_id = ch.id)
          INTO deleted, current, snapshot, owners
          FROM chefs_de_projet ch WHERE ch.id = NEW.resource_id;
        owners := COALESCE(owners, '{}');
    WHEN 'training' THEN
        SELECT t.deleted_at IS NOT NULL, t.version,
               to_jsonb(t) || jsonb_build_object('programmes', COALESCE((
                   SELECT jsonb_agg(jsonb_build_object('programme_id', p.id, 'programme', p.code) ORDER BY p.code)
                     FROM training_programmes tp JOIN programmes p ON p.id = tp.programme_id
                    WHERE tp.training_id = t.id AND p.deleted_at IS NULL), '[]'::jsonb)),
               training_programme_ids(t.id)
          INTO deleted, current, snapshot, owners
          FROM trainings t WHERE t.id = NEW.resource_id;
    WHEN 'session' THEN
        SELECT s.deleted_at IS NOT NULL, s.version, to_jsonb(s), training_programme_ids(s.training_id)
          INTO deleted, current, snapshot, owners
          FROM sessions s WHERE s.id = NEW.resource_id;
    WHEN 'enrolment' THEN
        SELECT false, e.version,
               to_jsonb(e) || jsonb_build_object('waitlist_position', CASE WHEN e.status = 'waitlisted' THEN (
                   SELECT count(*) FROM enrolments w WHERE w.session_id = e.session_id
                      AND w.status = 'waitlisted' AND w.waitlist_order <= e.waitlist_order) END),
               (SELECT COALESCE(array_agg(cp.programme_id), '{}') FROM chef_programmes cp WHERE cp.chef_de_projet_id = e.chef_de_projet_id)
          INTO deleted, current, snapshot, owners
          FROM enrolments e WHERE e.id = NEW.resource_id;
    END CASE;
    UPDATE changes
       SET position = nextval('change_position'),
           occurred_at = clock_timestamp(),
           action = CASE WHEN deleted THEN 'delete' ELSE 'upsert' END,
           version = current,
           row_data = CASE WHEN deleted THEN NULL ELSE snapshot END,
           programme_ids = owners
     WHERE id = NEW.id;
    PERFORM pg_notify('anct_changes', '');
    RETURN NULL;
END $$;


DROP FUNCTION seal_one(changes);
