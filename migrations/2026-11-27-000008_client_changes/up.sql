-- Every instance remembers which clients are enabled (one query less per request) and forgets a
-- client as soon as it hears that the client changed: disabling a client is announced to every
-- listening instance when the change commits.
CREATE FUNCTION announce_client_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('anct_clients', OLD.client_id);
    RETURN NULL;
END
$$;

CREATE TRIGGER api_clients_announce_change
    AFTER UPDATE OR DELETE ON api_clients
    FOR EACH ROW EXECUTE FUNCTION announce_client_change();
