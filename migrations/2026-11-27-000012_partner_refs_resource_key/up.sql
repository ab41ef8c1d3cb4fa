-- A partner's reference is looked up by (client, type, reference): the primary key. The other
-- unique constraint (one reference per resource and client) began with the same two columns, and
-- where the statistics were missing (a new table, autovacuum off) the planner took it for the
-- lookup and read every reference of the client for each one (seen: 5 s for 1,000 references
-- among 36,000). Led by the resource, it means the same and no longer matches that lookup.
ALTER TABLE partner_refs
    DROP CONSTRAINT partner_refs_client_id_resource_type_resource_id_key,
    ADD CONSTRAINT partner_refs_resource_key UNIQUE (resource_id, client_id, resource_type);
