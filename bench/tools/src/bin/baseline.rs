//! The raw baseline: actix-web and tokio-postgres, one prepared primary-key lookup per request
//! (the shape of TechEmpower's single-query test), no authentication, no framework of ours.
//! `baseline <bind address> <database url>`; `GET /trainings/{id}` answers the row as JSON.

use actix_web::{get, web, App, HttpResponse, HttpServer};
use tokio_postgres::{Client, NoTls, Statement};

struct Db {
    client: Client,
    lookup: Statement,
}

#[get("/trainings/{id}")]
async fn training(db: web::Data<Db>, id: web::Path<String>) -> HttpResponse {
    let Ok(id) = id.parse::<uuid_text::Uuid>() else {
        return HttpResponse::NotFound().finish();
    };
    match db.client.query_opt(&db.lookup, &[&id.0]).await {
        Ok(Some(row)) => HttpResponse::Ok()
            .content_type("application/json")
            .body(row.get::<_, String>(0)),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// A UUID passed to PostgreSQL as text, so no UUID crate feature is needed.
mod uuid_text {
    pub struct Uuid(pub String);

    impl std::str::FromStr for Uuid {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let ok = s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
            ok.then(|| Uuid(s.to_string())).ok_or(())
        }
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let bind = args.next().expect("bind address");
    let url = args.next().expect("database url");
    HttpServer::new(move || {
        let url = url.clone();
        App::new()
            .data_factory(move || {
                let url = url.clone();
                async move {
                    // One connection per worker: tokio-postgres pipelines concurrent queries.
                    let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
                    actix_web::rt::spawn(connection);
                    let lookup = client
                        .prepare(
                            "SELECT row_to_json(t)::text FROM (SELECT id, code, title, summary, objectives, \
                             duration_hours, modality, provider, status, version, created_at, updated_at \
                             FROM trainings WHERE id = $1::text::uuid) t",
                        )
                        .await?;
                    Ok::<_, tokio_postgres::Error>(Db { client, lookup })
                }
            })
            .service(training)
    })
    .bind(bind)?
    .run()
    .await
}
