-- Webhooks: partners register endpoints; the change feed is fanned out to them as deliveries,
-- each sent (and retried) by whichever instance claims it first.

CREATE TABLE webhook_endpoints (
    id                         uuid        PRIMARY KEY,
    -- The partner client that owns the endpoint; its scopes and programmes filter what it gets.
    client_id                  text        NOT NULL REFERENCES api_clients (client_id) ON DELETE CASCADE,
    url                        text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    description                text        CHECK (length(description) <= 500),
    -- Change types wanted; empty means every type the client may read.
    types                      text[]      NOT NULL DEFAULT '{}',
    enabled                    boolean     NOT NULL DEFAULT true,
    disabled_at                timestamptz,
    disabled_reason            text        CHECK (length(disabled_reason) <= 1000),
    -- Standard Webhooks secrets (`whsec_…`). They sign, so they are kept as given; never shown
    -- again after creation or rotation. During a rotation both sign until the previous expires.
    secret                     text        NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    -- The last feed position turned into deliveries for this endpoint.
    feed_position              bigint      NOT NULL,
    version                    bigint      NOT NULL DEFAULT 1,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    CHECK (enabled = (disabled_at IS NULL))
);
CREATE INDEX webhook_endpoints_client_idx ON webhook_endpoints (client_id, id);

CREATE TABLE webhook_deliveries (
    -- Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate.
    id               uuid        PRIMARY KEY,
    endpoint_id      uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    change_position  bigint      NOT NULL,
    resource_type    text        NOT NULL,
    resource_id      uuid        NOT NULL,
    -- The exact body sent (the change, as the feed shows it to the endpoint's client).
    payload          text        NOT NULL,
    status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- A claim: the instance holding `lease_token` sends until `lease_until`.
    lease_until      timestamptz,
    lease_token      uuid,
    last_status_code integer,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    -- Fanning out twice cannot make two deliveries of one change.
    UNIQUE (endpoint_id, change_position)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_resource_idx ON webhook_deliveries (resource_type, resource_id);

CREATE TABLE webhook_attempts (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at timestamptz NOT NULL,
    status_code  integer,
    latency_ms   integer     NOT NULL CHECK (latency_ms >= 0),
    error        text
);
CREATE INDEX webhook_attempts_delivery_idx ON webhook_attempts (delivery_id, id);
