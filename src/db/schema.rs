// The tables, as diesel sees them. Kept by hand in step with `migrations/`; a test compares the
// two through the API.

diesel::table! {
    programmes (id) {
        id -> Uuid,
        code -> Text,
        name -> Text,
        description -> Nullable<Text>,
        status -> Text,
        started_on -> Date,
        ended_on -> Nullable<Date>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    collectivites (id) {
        id -> Uuid,
        kind -> Text,
        name -> Text,
        insee_code -> Nullable<Text>,
        cog_year -> Nullable<Int4>,
        siren -> Nullable<Text>,
        epci_siren -> Nullable<Text>,
        department_code -> Nullable<Text>,
        region_code -> Nullable<Text>,
        population -> Nullable<Int4>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    collectivite_programmes (collectivite_id, programme_id) {
        collectivite_id -> Uuid,
        programme_id -> Uuid,
        joined_on -> Nullable<Date>,
        external_ref -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    chefs_de_projet (id) {
        id -> Uuid,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        collectivite_id -> Uuid,
        status -> Text,
        erased_at -> Nullable<Timestamptz>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    chef_programmes (chef_de_projet_id, programme_id) {
        chef_de_projet_id -> Uuid,
        programme_id -> Uuid,
    }
}

diesel::table! {
    trainings (id) {
        id -> Uuid,
        code -> Text,
        title -> Text,
        summary -> Nullable<Text>,
        objectives -> Nullable<Text>,
        duration_hours -> Float8,
        modality -> Text,
        provider -> Text,
        status -> Text,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    training_programmes (training_id, programme_id) {
        training_id -> Uuid,
        programme_id -> Uuid,
    }
}

diesel::table! {
    sessions (id) {
        id -> Uuid,
        training_id -> Uuid,
        starts_at -> Timestamptz,
        ends_at -> Timestamptz,
        remote -> Bool,
        location_label -> Nullable<Text>,
        location_city -> Nullable<Text>,
        location_insee_code -> Nullable<Text>,
        region_code -> Nullable<Text>,
        capacity -> Int4,
        enrolment_opens_at -> Timestamptz,
        enrolment_closes_at -> Timestamptz,
        requires_approval -> Bool,
        status -> Text,
        seats_confirmed -> Int4,
        seats_waitlisted -> Int4,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    enrolments (id) {
        id -> Uuid,
        session_id -> Uuid,
        chef_de_projet_id -> Uuid,
        status -> Text,
        waitlist_order -> Nullable<Int8>,
        reason -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    enrolment_transitions (enrolment_id, id) {
        id -> Int8,
        enrolment_id -> Uuid,
        from_status -> Nullable<Text>,
        to_status -> Text,
        actor -> Text,
        reason -> Nullable<Text>,
        occurred_at -> Timestamptz,
    }
}

diesel::joinable!(collectivite_programmes -> collectivites (collectivite_id));
diesel::joinable!(collectivite_programmes -> programmes (programme_id));
diesel::joinable!(chefs_de_projet -> collectivites (collectivite_id));
diesel::joinable!(chef_programmes -> chefs_de_projet (chef_de_projet_id));
diesel::joinable!(chef_programmes -> programmes (programme_id));
diesel::joinable!(training_programmes -> trainings (training_id));
diesel::joinable!(training_programmes -> programmes (programme_id));
diesel::joinable!(sessions -> trainings (training_id));
diesel::joinable!(enrolments -> sessions (session_id));
diesel::joinable!(enrolments -> chefs_de_projet (chef_de_projet_id));
diesel::joinable!(enrolment_transitions -> enrolments (enrolment_id));

diesel::allow_tables_to_appear_in_same_query!(
    programmes,
    collectivites,
    collectivite_programmes,
    chefs_de_projet,
    chef_programmes,
    trainings,
    training_programmes,
    sessions,
    enrolments,
    enrolment_transitions,
);

diesel::table! {
    api_clients (id) {
        id -> Uuid,
        client_id -> Text,
        name -> Text,
        secret_hash -> Text,
        scopes -> Array<Text>,
        programme_ids -> Array<Uuid>,
        disabled_at -> Nullable<Timestamptz>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        algorithm -> Text,
        private_key -> Bytea,
        public_key -> Bytea,
        created_at -> Timestamptz,
        retired_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    changes (position) {
        resource_type -> Text,
        resource_id -> Uuid,
        position -> Int8,
        action -> Text,
        version -> Nullable<Int8>,
        row_data -> Nullable<Jsonb>,
        programme_ids -> Nullable<Array<Uuid>>,
        occurred_at -> Timestamptz,
    }
}

diesel::table! {
    change_feed_state (singleton) {
        singleton -> Bool,
        pruned_before -> Int8,
    }
}

diesel::table! {
    idempotency_keys (client_id, key) {
        client_id -> Text,
        key -> Text,
        fingerprint -> Bytea,
        response_status -> Int4,
        response_headers -> Jsonb,
        response_body -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    partner_refs (client_id, resource_type, reference) {
        client_id -> Text,
        resource_type -> Text,
        reference -> Text,
        resource_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Uuid,
        client_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        types -> Array<Text>,
        enabled -> Bool,
        disabled_at -> Nullable<Timestamptz>,
        disabled_reason -> Nullable<Text>,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamptz>,
        feed_position -> Int8,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        endpoint_id -> Uuid,
        change_position -> Int8,
        resource_type -> Text,
        resource_id -> Uuid,
        payload -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_until -> Nullable<Timestamptz>,
        lease_token -> Nullable<Uuid>,
        last_status_code -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Int8,
        delivery_id -> Uuid,
        attempted_at -> Timestamptz,
        status_code -> Nullable<Int4>,
        latency_ms -> Int4,
        error -> Nullable<Text>,
    }
}

diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_attempts -> webhook_deliveries (delivery_id));

diesel::allow_tables_to_appear_in_same_query!(changes, change_feed_state);

diesel::allow_tables_to_appear_in_same_query!(
    api_clients,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
);
