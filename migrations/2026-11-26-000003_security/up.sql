-- API clients (OAuth 2.0 client credentials) and the keys that sign their tokens.

CREATE TABLE api_clients (
    id              uuid        PRIMARY KEY,
    client_id       text        NOT NULL UNIQUE CHECK (client_id ~ '^[a-z0-9_]{8,64}$'),
    name            text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    -- Argon2id, PHC string format; the secret itself is shown once and never stored.
    secret_hash     text        NOT NULL,
    scopes          text[]      NOT NULL,
    -- Programmes the client is restricted to; empty means every programme.
    programme_ids   uuid[]      NOT NULL DEFAULT '{}',
    disabled_at     timestamptz,
    disabled_reason text        CHECK (length(disabled_reason) <= 500),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Ed25519 keys. The newest key that is not retired signs; every key verifies until it is
-- pruned, so rotation never invalidates a token before it expires.
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY,
    algorithm   text        NOT NULL CHECK (algorithm = 'EdDSA'),
    private_key bytea       NOT NULL,
    public_key  bytea       NOT NULL CHECK (length(public_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz
);
