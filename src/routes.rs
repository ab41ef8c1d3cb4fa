//! The route table: every operation of the service, in one place. The server, the tests and the
//! OpenAPI document all come from it, so none can drift.

use utoipa_actix_web::{scope, service_config::ServiceConfig};

use crate::{collectivites, health, programmes};

pub fn configure(config: &mut ServiceConfig) {
    config.service(health::live).service(health::ready).service(
        scope("/api/v1")
            .service(programmes::handlers::list_programmes)
            .service(programmes::handlers::create_programme)
            .service(programmes::handlers::get_programme)
            .service(programmes::handlers::update_programme)
            .service(programmes::handlers::delete_programme)
            .service(collectivites::handlers::list_collectivites)
            .service(collectivites::handlers::create_collectivite)
            .service(collectivites::handlers::get_collectivite)
            .service(collectivites::handlers::update_collectivite)
            .service(collectivites::handlers::delete_collectivite),
    );
}
