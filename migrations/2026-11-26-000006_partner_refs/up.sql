-- Partners' own references to the resources they write, one namespace per client.
CREATE TABLE partner_refs (
    client_id     text        NOT NULL,
    resource_type text        NOT NULL CHECK (resource_type IN ('programme', 'collectivite', 'chef_de_projet', 'training', 'session', 'enrolment')),
    reference     text        NOT NULL CHECK (length(reference) BETWEEN 1 AND 200),
    resource_id   uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, resource_type, reference),
    UNIQUE (client_id, resource_type, resource_id)
);
