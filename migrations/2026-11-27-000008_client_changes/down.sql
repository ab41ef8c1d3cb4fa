DROP TRIGGER api_clients_announce_change ON api_clients;
DROP FUNCTION announce_client_change();
