-- Responses to POST requests sent with an Idempotency-Key, stored in the same transaction as the
-- work they report, so a retry gets the first answer and the work is never done twice.
CREATE TABLE idempotency_keys (
    client_id        text        NOT NULL,
    key              text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    -- SHA-256 of the method, path and body: the same key with another request is refused.
    fingerprint      bytea       NOT NULL,
    response_status  integer     NOT NULL,
    response_headers jsonb       NOT NULL,
    response_body    bytea       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
