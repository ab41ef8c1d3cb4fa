-- Foundation: text search helpers and the programme resource.

CREATE EXTENSION IF NOT EXISTS unaccent;

-- lower(unaccent(text)), declared immutable so it can back expression indexes.
-- The dictionary is named with its schema so the result does not depend on search_path.
CREATE FUNCTION search_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

CREATE TABLE programmes (
    id          uuid        PRIMARY KEY,
    code        text        NOT NULL CHECK (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(code) BETWEEN 2 AND 64),
    name        text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description text        CHECK (length(description) <= 5000),
    status      text        NOT NULL CHECK (status IN ('active', 'closed')),
    started_on  date        NOT NULL,
    ended_on    date        CHECK (ended_on >= started_on),
    version     bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

-- A code names one live programme; a deleted programme frees its code.
CREATE UNIQUE INDEX programmes_code_key ON programmes (code) WHERE deleted_at IS NULL;
CREATE INDEX programmes_updated_at_idx ON programmes (updated_at, id);
