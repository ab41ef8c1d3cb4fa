-- The change feed: every committed change of every resource, once, in commit order.
--
-- Writers never deal with it. A trigger on each resource table records "this resource changed in
-- this transaction" (once per transaction). A deferred trigger, which runs as the transaction
-- commits, takes a lock that serialises only this last step, gives each change the next
-- position and a snapshot of the resource as committed. The lock is released after the commit
-- is visible, so positions become visible in order: a reader that sees position n has seen every
-- position below it. A plain sequence or timestamp would skip rows whose transaction commits
-- after a later one.

CREATE SEQUENCE change_position;

CREATE TABLE changes (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    resource_type text        NOT NULL CHECK (resource_type IN ('programme', 'collectivite', 'chef_de_projet', 'training', 'session', 'enrolment')),
    resource_id   uuid        NOT NULL,
    -- Filled at commit.
    position      bigint      UNIQUE,
    action        text        CHECK (action IN ('upsert', 'delete')),
    version       bigint,
    -- The stored row with its memberships; NULL for deletions and after an erasure.
    row_data      jsonb,
    -- The programmes the resource belongs to, for restricted readers; NULL = open to all.
    programme_ids uuid[],
    occurred_at   timestamptz
);
CREATE UNIQUE INDEX changes_once_per_transaction ON changes (txid, resource_type, resource_id);
CREATE INDEX changes_resource_idx ON changes (resource_type, resource_id);

-- Positions below this one were pruned (retention); a cursor below it cannot be followed.
CREATE TABLE change_feed_state (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    pruned_before bigint  NOT NULL DEFAULT 0
);
INSERT INTO change_feed_state DEFAULT VALUES;

-- Records that `TG_ARGV[0]` with id `NEW.<TG_ARGV[1]>` (default `id`) changed.
CREATE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed_id uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed_id := (to_jsonb(OLD) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    ELSE
        changed_id := (to_jsonb(NEW) ->> COALESCE(TG_ARGV[1], 'id'))::uuid;
    END IF;
    INSERT INTO changes (resource_type, resource_id) VALUES (TG_ARGV[0], changed_id)
    ON CONFLICT (txid, resource_type, resource_id) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER programmes_capture AFTER INSERT OR UPDATE ON programmes
    FOR EACH ROW EXECUTE FUNCTION capture_change('programme');
CREATE TRIGGER collectivites_capture AFTER INSERT OR UPDATE ON collectivites
    FOR EACH ROW EXECUTE FUNCTION capture_change('collectivite');
CREATE TRIGGER collectivite_programmes_capture AFTER INSERT OR UPDATE OR DELETE ON collectivite_programmes
    FOR EACH ROW EXECUTE FUNCTION capture_change('collectivite', 'collectivite_id');
CREATE TRIGGER chefs_de_projet_capture AFTER INSERT OR UPDATE ON chefs_de_projet
    FOR EACH ROW EXECUTE FUNCTION capture_change('chef_de_projet');
CREATE TRIGGER chef_programmes_capture AFTER INSERT OR UPDATE OR DELETE ON chef_programmes
    FOR EACH ROW EXECUTE FUNCTION capture_change('chef_de_projet', 'chef_de_projet_id');
CREATE TRIGGER trainings_capture AFTER INSERT OR UPDATE ON trainings
    FOR EACH ROW EXECUTE FUNCTION capture_change('training');
CREATE TRIGGER training_programmes_capture AFTER INSERT OR UPDATE OR DELETE ON training_programmes
    FOR EACH ROW EXECUTE FUNCTION capture_change('training', 'training_id');
CREATE TRIGGER sessions_capture AFTER INSERT OR UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION capture_change('session');
CREATE TRIGGER enrolments_capture AFTER INSERT OR UPDATE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION capture_change('enrolment');

-- The programmes a training is for; NULL when it targets none (open to all).
CREATE FUNCTION training_programme_ids(training uuid) RETURNS uuid[] LANGUAGE sql STABLE AS $$
    SELECT array_agg(programme_id ORDER BY programme_id) FROM training_programmes WHERE training_id = training
$$;

-- Gives a change its position and the snapshot of its resource, as the transaction commits.
CREATE FUNCTION seal_change() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE CONSTRAINT TRIGGER changes_seal AFTER INSERT ON changes
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION seal_change();
