DROP TRIGGER enrolments_capture_inserted ON enrolments;
DROP FUNCTION capture_inserted_enrolments();
DROP TRIGGER enrolments_capture ON enrolments;
CREATE TRIGGER enrolments_capture AFTER INSERT OR UPDATE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION capture_change('enrolment');
DROP TRIGGER enrolments_count_inserted_seats ON enrolments;
DROP FUNCTION enrolments_count_inserted_seats();
DROP TRIGGER enrolments_count_seats ON enrolments;
CREATE TRIGGER enrolments_count_seats
    AFTER INSERT OR UPDATE OF status OR DELETE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_count_seats();
