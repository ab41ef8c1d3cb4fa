//! The data most stories start from, created through the API like a partner would.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use super::TestApp;

pub const PVD: &str = "petites-villes-de-demain";
pub const ACV: &str = "action-coeur-de-ville";

impl TestApp {
    pub async fn programme(&self, code: &str) -> Value {
        self.post_json(
            "/api/v1/programmes",
            &json!({"code": code, "name": code, "started_on": "2020-10-01"}),
        )
        .await
        .assert_json(201)
    }

    /// A commune taking part in `programme`.
    pub async fn commune(&self, name: &str, insee: &str, programme: &str) -> Value {
        self.post_json(
            "/api/v1/collectivites",
            &json!({"kind": "commune", "name": name, "insee_code": insee, "cog_year": 2025,
                    "region_code": "53", "programmes": [{"programme": programme}]}),
        )
        .await
        .assert_json(201)
    }

    pub async fn chef(&self, employer: &Value, email: &str, programmes: &[&str]) -> Value {
        self.post_json(
            "/api/v1/chefs_de_projet",
            &json!({"first_name": "Camille", "last_name": "Martin", "email": email,
                    "collectivite_id": employer["id"], "programmes": programmes}),
        )
        .await
        .assert_json(201)
    }

    pub async fn training(&self, code: &str, targets: &[&str], status: &str) -> Value {
        self.post_json(
            "/api/v1/trainings",
            &json!({"code": code, "title": format!("Formation {code}"), "duration_hours": 14,
                    "modality": "in_person", "target_programmes": targets, "status": status}),
        )
        .await
        .assert_json(201)
    }

    /// A session whose enrolment window is open now; it starts in 20 days.
    pub async fn session(&self, training: &Value, capacity: i32, requires_approval: bool) -> Value {
        self.post_json(
            "/api/v1/sessions",
            &session_body(training, capacity, requires_approval),
        )
        .await
        .assert_json(201)
    }

    pub async fn enrol(&self, session: &Value, chef: &Value) -> Value {
        self.post_json(
            "/api/v1/enrolments",
            &json!({"session_id": session["id"], "chef_de_projet_id": chef["id"]}),
        )
        .await
        .assert_json(201)
    }

    /// POSTs a transition (`approve`, `cancel` …) with `body`.
    pub async fn transition(&self, enrolment: &Value, action: &str, body: Value) -> super::Reply {
        self.post_json(
            &format!(
                "/api/v1/enrolments/{}/{action}",
                enrolment["id"].as_str().unwrap()
            ),
            &body,
        )
        .await
    }
}

impl TestApp {
    /// Registers a webhook endpoint straight in the database, past the API's address checks
    /// (for a target the test needs that registration would refuse, or to test a later check).
    pub async fn endpoint_without_checks(&self, url: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.db().await;
        conn.batch_execute(&format!(
            "INSERT INTO webhook_endpoints (id, client_id, url, secret, feed_position)
             SELECT gen_random_uuid(), client_id, '{url}', 'whsec_AAAA', 0 FROM api_clients LIMIT 1"
        ))
        .await
        .expect("endpoint inserted");
    }
}

/// The fields a validation problem names, in order.
pub fn error_fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default()
}

pub fn session_body(training: &Value, capacity: i32, requires_approval: bool) -> Value {
    let now = Utc::now();
    json!({
        "training_id": training["id"],
        "starts_at": (now + Duration::days(20)).to_rfc3339(),
        "ends_at": (now + Duration::days(21)).to_rfc3339(),
        "remote": false,
        "location": {"label": "CNFPT Bretagne", "city": "Rennes", "insee_code": "35238", "region_code": "53"},
        "capacity": capacity,
        "enrolment_opens_at": (now - Duration::days(1)).to_rfc3339(),
        "enrolment_closes_at": (now + Duration::days(10)).to_rfc3339(),
        "requires_approval": requires_approval
    })
}

/// A chef de projet of PVD, employed by a PVD commune, and a published PVD training.
pub struct World {
    pub commune: Value,
    pub chef: Value,
    pub training: Value,
}

impl World {
    pub async fn new(app: &TestApp) -> Self {
        app.programme(PVD).await;
        app.programme(ACV).await;
        let commune = app.commune("Ablis", "78003", PVD).await;
        let chef = app
            .chef(&commune, "camille.martin@mairie-ablis.fr", &[PVD])
            .await;
        let training = app.training("PVD-01", &[PVD], "published").await;
        Self {
            commune,
            chef,
            training,
        }
    }
}
