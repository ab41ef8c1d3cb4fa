-- The domain: territories, chefs de projet, trainings, sessions, enrolments.
-- Rules that concurrency could break (capacity, one active enrolment per chef and session,
-- uniqueness) are enforced here, not only in the code.

CREATE TABLE collectivites (
    id              uuid        PRIMARY KEY,
    kind            text        NOT NULL CHECK (kind IN ('commune', 'epci', 'departement', 'region', 'other')),
    name            text        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    insee_code      text        CHECK (insee_code ~ '^([0-9]{2}|2A|2B)[0-9]{3}$'),
    cog_year        integer     CHECK (cog_year BETWEEN 1943 AND 2100),
    siren           text        CHECK (siren ~ '^[0-9]{9}$'),
    epci_siren      text        CHECK (epci_siren ~ '^[0-9]{9}$'),
    department_code text        CHECK (department_code ~ '^([0-9]{2}|2A|2B|97[1-8])$'),
    region_code     text        CHECK (region_code ~ '^[0-9]{2}$'),
    population      integer     CHECK (population >= 0),
    version         bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz,
    -- A commune is known by its INSEE code and the year of the code list it comes from.
    CHECK (kind <> 'commune' OR (insee_code IS NOT NULL AND cog_year IS NOT NULL)),
    CHECK ((insee_code IS NULL) = (cog_year IS NULL))
);
CREATE UNIQUE INDEX collectivites_insee_key ON collectivites (insee_code, cog_year) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX collectivites_siren_key ON collectivites (siren) WHERE deleted_at IS NULL;
CREATE INDEX collectivites_region_idx ON collectivites (region_code);
CREATE INDEX collectivites_department_idx ON collectivites (department_code);
CREATE INDEX collectivites_updated_at_idx ON collectivites (updated_at, id);
CREATE INDEX collectivites_name_search_idx ON collectivites (search_fold(name) text_pattern_ops);

-- A territory's participation in a programme.
CREATE TABLE collectivite_programmes (
    collectivite_id uuid        NOT NULL REFERENCES collectivites (id),
    programme_id    uuid        NOT NULL REFERENCES programmes (id),
    joined_on       date,
    external_ref    text        CHECK (length(external_ref) <= 100),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collectivite_id, programme_id)
);
CREATE INDEX collectivite_programmes_programme_idx ON collectivite_programmes (programme_id, collectivite_id);

CREATE TABLE chefs_de_projet (
    id              uuid        PRIMARY KEY,
    first_name      text        NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name       text        NOT NULL CHECK (length(btrim(last_name)) BETWEEN 1 AND 100),
    email           text        NOT NULL CHECK (length(email) <= 254),
    phone           text        CHECK (length(phone) <= 30),
    collectivite_id uuid        NOT NULL REFERENCES collectivites (id),
    status          text        NOT NULL CHECK (status IN ('active', 'left')),
    erased_at       timestamptz,
    version         bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    deleted_at      timestamptz
);
-- E-mail addresses are unique whatever their case, among people not deleted.
CREATE UNIQUE INDEX chefs_de_projet_email_key ON chefs_de_projet (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX chefs_de_projet_collectivite_idx ON chefs_de_projet (collectivite_id);
CREATE INDEX chefs_de_projet_updated_at_idx ON chefs_de_projet (updated_at, id);

CREATE TABLE chef_programmes (
    chef_de_projet_id uuid NOT NULL REFERENCES chefs_de_projet (id),
    programme_id      uuid NOT NULL REFERENCES programmes (id),
    PRIMARY KEY (chef_de_projet_id, programme_id)
);
CREATE INDEX chef_programmes_programme_idx ON chef_programmes (programme_id, chef_de_projet_id);

CREATE TABLE trainings (
    id             uuid             PRIMARY KEY,
    code           text             NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
    title          text             NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    summary        text             CHECK (length(summary) <= 2000),
    objectives     text             CHECK (length(objectives) <= 5000),
    duration_hours double precision NOT NULL CHECK (duration_hours > 0 AND duration_hours <= 1000),
    modality       text             NOT NULL CHECK (modality IN ('in_person', 'remote', 'hybrid')),
    provider       text             NOT NULL CHECK (length(btrim(provider)) BETWEEN 1 AND 200),
    status         text             NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    version        bigint           NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at     timestamptz      NOT NULL DEFAULT now(),
    updated_at     timestamptz      NOT NULL DEFAULT now(),
    deleted_at     timestamptz
);
CREATE UNIQUE INDEX trainings_code_key ON trainings (code) WHERE deleted_at IS NULL;
CREATE INDEX trainings_updated_at_idx ON trainings (updated_at, id);

-- The programmes a training is for; none means open to all.
CREATE TABLE training_programmes (
    training_id  uuid NOT NULL REFERENCES trainings (id),
    programme_id uuid NOT NULL REFERENCES programmes (id),
    PRIMARY KEY (training_id, programme_id)
);
CREATE INDEX training_programmes_programme_idx ON training_programmes (programme_id, training_id);

CREATE TABLE sessions (
    id                  uuid        PRIMARY KEY,
    training_id         uuid        NOT NULL REFERENCES trainings (id),
    starts_at           timestamptz NOT NULL,
    ends_at             timestamptz NOT NULL,
    remote              boolean     NOT NULL,
    location_label      text        CHECK (length(location_label) <= 200),
    location_city       text        CHECK (length(location_city) <= 200),
    location_insee_code text        CHECK (location_insee_code ~ '^([0-9]{2}|2A|2B)[0-9]{3}$'),
    region_code         text        CHECK (region_code ~ '^[0-9]{2}$'),
    capacity            integer     NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    enrolment_opens_at  timestamptz NOT NULL,
    enrolment_closes_at timestamptz NOT NULL,
    requires_approval   boolean     NOT NULL,
    status              text        NOT NULL CHECK (status IN ('scheduled', 'cancelled', 'completed')),
    -- Maintained by the enrolment trigger below; the CHECK is what makes over-booking impossible.
    seats_confirmed     integer     NOT NULL DEFAULT 0 CHECK (seats_confirmed >= 0),
    seats_waitlisted    integer     NOT NULL DEFAULT 0 CHECK (seats_waitlisted >= 0),
    version             bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    CHECK (ends_at > starts_at),
    CHECK (enrolment_closes_at > enrolment_opens_at),
    CHECK (enrolment_closes_at <= starts_at),
    CHECK (remote OR location_city IS NOT NULL),
    CONSTRAINT sessions_capacity_respected CHECK (seats_confirmed <= capacity)
);
CREATE INDEX sessions_training_idx ON sessions (training_id, starts_at);
CREATE INDEX sessions_starts_at_idx ON sessions (starts_at);
CREATE INDEX sessions_updated_at_idx ON sessions (updated_at, id);

CREATE SEQUENCE waitlist_order;

CREATE TABLE enrolments (
    id                uuid        PRIMARY KEY,
    session_id        uuid        NOT NULL REFERENCES sessions (id),
    chef_de_projet_id uuid        NOT NULL REFERENCES chefs_de_projet (id),
    status            text        NOT NULL CHECK (status IN ('pending_approval', 'waitlisted', 'confirmed', 'refused', 'cancelled', 'attended', 'absent')),
    -- Order in the waitlist; positions 1..n are derived from it, so they never have a gap.
    waitlist_order    bigint,
    reason            text        CHECK (length(reason) <= 500),
    version           bigint      NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'waitlisted') = (waitlist_order IS NOT NULL))
);
-- One active enrolment per chef and session.
CREATE UNIQUE INDEX enrolments_active_key ON enrolments (session_id, chef_de_projet_id)
    WHERE status IN ('pending_approval', 'waitlisted', 'confirmed');
CREATE INDEX enrolments_session_idx ON enrolments (session_id, status);
CREATE INDEX enrolments_waitlist_idx ON enrolments (session_id, waitlist_order) WHERE status = 'waitlisted';
CREATE INDEX enrolments_chef_idx ON enrolments (chef_de_projet_id);
CREATE INDEX enrolments_updated_at_idx ON enrolments (updated_at, id);

-- Every transition of every enrolment: from, to, who, why, when.
CREATE TABLE enrolment_transitions (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    enrolment_id uuid        NOT NULL REFERENCES enrolments (id),
    from_status  text,
    to_status    text        NOT NULL,
    actor        text        NOT NULL CHECK (length(actor) <= 200),
    reason       text        CHECK (length(reason) <= 500),
    occurred_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrolment_transitions_enrolment_idx ON enrolment_transitions (enrolment_id, id);

-- Keeps sessions.seats_confirmed and seats_waitlisted equal to the enrolments' statuses, in the
-- same transaction, so the capacity CHECK sees every change whoever makes it.
CREATE FUNCTION enrolments_count_seats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_confirmed int := 0; old_waitlisted int := 0;
    new_confirmed int := 0; new_waitlisted int := 0;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_confirmed := (OLD.status = 'confirmed')::int;
        old_waitlisted := (OLD.status = 'waitlisted')::int;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_confirmed := (NEW.status = 'confirmed')::int;
        new_waitlisted := (NEW.status = 'waitlisted')::int;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.session_id <> NEW.session_id THEN
        RAISE EXCEPTION 'an enrolment cannot move to another session';
    END IF;
    IF new_confirmed <> old_confirmed OR new_waitlisted <> old_waitlisted THEN
        -- The counts are part of the session's representation: a change is a new version.
        UPDATE sessions
           SET seats_confirmed = seats_confirmed + new_confirmed - old_confirmed,
               seats_waitlisted = seats_waitlisted + new_waitlisted - old_waitlisted,
               version = version + 1,
               updated_at = now()
         WHERE id = COALESCE(NEW.session_id, OLD.session_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER enrolments_count_seats
    AFTER INSERT OR UPDATE OF status OR DELETE ON enrolments
    FOR EACH ROW EXECUTE FUNCTION enrolments_count_seats();
