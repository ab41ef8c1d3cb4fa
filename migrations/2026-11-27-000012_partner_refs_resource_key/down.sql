ALTER TABLE partner_refs
    DROP CONSTRAINT partner_refs_resource_key,
    ADD CONSTRAINT partner_refs_client_id_resource_type_resource_id_key UNIQUE (client_id, resource_type, resource_id);
