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
