-- New enrolments are counted and captured once per statement, not once per row: a batch of
-- 1,000 enrolments is one INSERT, which updated its session's row 1,000 times (each update a new
-- row version, and a capture) and captured each enrolment with a trigger call of its own.
-- Updates and deletions keep their row triggers (a transition changes one enrolment).

DROP TRIGGER enrolments_count_seats ON enrolments;
CREATE TRIGGER enrolments_count_seats
    AFTER UPDATE OF status OR DELETE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_count_seats();

CREATE FUNCTION enrolments_count_inserted_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The counts are part of the session's representation: a change is a new version.
    UPDATE sessions s
       SET seats_confirmed = s.seats_confirmed + added.confirmed,
           seats_waitlisted = s.seats_waitlisted + added.waitlisted,
           version = s.version + 1,
           updated_at = now()
      FROM (SELECT session_id,
                   count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
                   count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted
              FROM inserted
             GROUP BY session_id) AS added
     WHERE s.id = added.session_id
       AND (added.confirmed > 0 OR added.waitlisted > 0);
    RETURN NULL;
END $$;

CREATE TRIGGER enrolments_count_inserted_seats
    AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION enrolments_count_inserted_seats();

DROP TRIGGER enrolments_capture ON enrolments;
CREATE TRIGGER enrolments_capture AFTER UPDATE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION capture_change('enrolment');

CREATE FUNCTION capture_inserted_enrolments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO changes (resource_type, resource_id)
    SELECT 'enrolment', id FROM inserted ORDER BY id
    ON CONFLICT (txid, resource_type, resource_id) DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER enrolments_capture_inserted
    AFTER INSERT ON enrolments
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION capture_inserted_enrolments();
