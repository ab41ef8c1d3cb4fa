//! The route table: every operation of the service, in one place. The server, the tests and the
//! OpenAPI document all come from it, so none can drift.

use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::{
    auth, changes, chefs_de_projet, collectivites, enrolments, exports, health, metrics,
    programmes, references, sessions, trainings, webhooks,
};

pub fn configure(config: &mut ServiceConfig) {
    config
        .service(health::live)
        .service(health::ready)
        .service(metrics::handler::metrics)
        .service(auth::handlers::jwks)
        .service(
            scope("/api/v1")
                .service(auth::handlers::issue_token)
                .service(changes::handlers::list_changes)
                .service(programmes::handlers::list_programmes)
                .service(programmes::handlers::create_programme)
                .service(programmes::handlers::get_programme)
                .service(programmes::handlers::update_programme)
                .service(programmes::handlers::delete_programme)
                .service(collectivites::handlers::list_collectivites)
                .service(collectivites::handlers::create_collectivite)
                .service(collectivites::handlers::get_collectivite)
                .service(collectivites::handlers::update_collectivite)
                .service(collectivites::handlers::delete_collectivite)
                .service(chefs_de_projet::handlers::list_chefs_de_projet)
                .service(chefs_de_projet::handlers::create_chef_de_projet)
                .service(chefs_de_projet::handlers::get_chef_de_projet)
                .service(chefs_de_projet::handlers::update_chef_de_projet)
                .service(chefs_de_projet::handlers::delete_chef_de_projet)
                .service(chefs_de_projet::handlers::erase_chef_de_projet)
                .service(exports::lheo::get_lheo_catalogue)
                .service(exports::calendar::get_sessions_calendar)
                .service(trainings::handlers::list_trainings)
                .service(trainings::handlers::create_training)
                .service(trainings::handlers::get_training)
                .service(trainings::handlers::update_training)
                .service(trainings::handlers::delete_training)
                .service(references::handlers::upsert_sessions)
                .service(references::handlers::upsert_enrolments)
                .service(references::handlers::put_session)
                .service(references::handlers::put_enrolment)
                .service(references::handlers::put_training_by_reference)
                .service(references::handlers::put_collectivite_by_reference)
                .service(references::handlers::put_chef_de_projet_by_reference)
                .service(references::handlers::put_programme_by_reference)
                .service(sessions::handlers::list_sessions)
                .service(sessions::handlers::create_session)
                .service(sessions::handlers::get_session)
                .service(sessions::handlers::update_session)
                .service(sessions::handlers::delete_session)
                .service(sessions::handlers::cancel_session)
                .service(sessions::handlers::complete_session)
                .service(exports::attendance::get_session_attendance_sheet)
                .service(enrolments::handlers::list_enrolments)
                .service(enrolments::handlers::create_enrolment)
                .service(enrolments::handlers::get_enrolment)
                .service(enrolments::handlers::get_enrolment_history)
                .service(enrolments::handlers::approve_enrolment)
                .service(enrolments::handlers::refuse_enrolment)
                .service(enrolments::handlers::cancel_enrolment)
                .service(enrolments::handlers::record_enrolment_attendance)
                .service(webhooks::handlers::list_webhook_endpoints)
                .service(webhooks::handlers::create_webhook_endpoint)
                .service(webhooks::handlers::get_webhook_endpoint)
                .service(webhooks::handlers::update_webhook_endpoint)
                .service(webhooks::handlers::delete_webhook_endpoint)
                .service(webhooks::handlers::rotate_webhook_secret)
                .service(webhooks::handlers::list_webhook_deliveries)
                .service(webhooks::handlers::get_webhook_delivery)
                .service(webhooks::handlers::redeliver_webhook_delivery),
        );
}
