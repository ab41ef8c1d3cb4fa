//! The training catalogue in LHÉO 2.3 (Langage harmonisé d'échange d'informations sur l'offre de
//! formation, http://lheo.gouv.fr/2.3), the format the Carif-Oref network and public
//! employment services exchange training offers in. One `<formation>` per published training
//! with sessions to come, one `<action>` (place, teaching mode) holding one `<session>` per
//! session. Every element the standard requires is present, in its order; text is cut to the
//! lengths it allows.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::{Caller, Scope, Visibility};
use crate::config::CatalogueOwner;
use crate::db::schema::{programmes, sessions, training_programmes, trainings};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::exports::xml::XmlWriter;
use crate::openapi::responses::Common;
use crate::trainings::rows::TrainingRow;

pub const NAMESPACE: &str = "http://lheo.gouv.fr/2.3";

#[derive(Debug, Queryable)]
pub struct OfferSession {
    pub training_id: Uuid,
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub remote: bool,
    pub location_label: Option<String>,
    pub location_city: Option<String>,
    pub enrolment_opens_at: DateTime<Utc>,
    pub enrolment_closes_at: DateTime<Utc>,
    pub seats_left: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A training with what the export says of it.
pub struct Entry {
    pub offer: TrainingRow,
    pub sessions: Vec<OfferSession>,
    /// Names of the programmes it targets (none: open to all).
    pub programmes: Vec<String>,
}

/// Published trainings the caller sees that have sessions to come, with those sessions.
pub async fn load(
    conn: &mut AsyncPgConnection,
    visibility: &Visibility,
) -> Result<Vec<Entry>, ApiError> {
    let now = Utc::now();
    let mut query = trainings::table
        .filter(trainings::deleted_at.is_null())
        .filter(trainings::status.eq("published"))
        .order(trainings::code.asc())
        .select(TrainingRow::as_select())
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(crate::trainings::store::open_to(mine));
    }
    let offers: Vec<TrainingRow> = query.load(conn).await?;
    let ids: Vec<Uuid> = offers.iter().map(|o| o.id).collect();
    let mut by_training: HashMap<Uuid, Vec<OfferSession>> = HashMap::new();
    let rows: Vec<OfferSession> = sessions::table
        .filter(sessions::training_id.eq_any(&ids))
        .filter(sessions::deleted_at.is_null())
        .filter(sessions::status.eq("scheduled"))
        .filter(sessions::ends_at.ge(now))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((
            sessions::training_id,
            sessions::id,
            sessions::starts_at,
            sessions::ends_at,
            sessions::remote,
            sessions::location_label,
            sessions::location_city,
            sessions::enrolment_opens_at,
            sessions::enrolment_closes_at,
            sessions::capacity - sessions::seats_confirmed,
            sessions::created_at,
            sessions::updated_at,
        ))
        .load(conn)
        .await?;
    for row in rows {
        by_training.entry(row.training_id).or_default().push(row);
    }
    let mut targets: HashMap<Uuid, Vec<String>> = HashMap::new();
    let pairs: Vec<(Uuid, String)> = training_programmes::table
        .inner_join(programmes::table)
        .filter(training_programmes::training_id.eq_any(&ids))
        .filter(programmes::deleted_at.is_null())
        .order(programmes::name.asc())
        .select((training_programmes::training_id, programmes::name))
        .load(conn)
        .await?;
    for (training, name) in pairs {
        targets.entry(training).or_default().push(name);
    }
    Ok(offers
        .into_iter()
        .filter_map(|offer| {
            let sessions = by_training.remove(&offer.id)?;
            let programmes = targets.remove(&offer.id).unwrap_or_default();
            Some(Entry {
                offer,
                sessions,
                programmes,
            })
        })
        .collect())
}

/// `text` trimmed to at most `max` characters, or `fallback` when blank.
fn clip(text: Option<&str>, max: usize, fallback: &str) -> String {
    let text = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or(fallback);
    text.chars()
        .take(max)
        .collect::<String>()
        .trim()
        .to_string()
}

fn date(at: DateTime<Utc>) -> String {
    at.format("%Y%m%d").to_string()
}

/// `dict-modalites-enseignement`: 0 in person, 1 mixed, 2 remote.
fn teaching_mode(modality: &str, remote_session: bool) -> &'static str {
    match (remote_session, modality) {
        (true, _) | (_, "remote") => "2",
        (_, "hybrid") => "1",
        _ => "0",
    }
}

/// The lines of a place (`<ligne>`: at most 3 of 50 characters).
fn place_lines(session: &OfferSession) -> Vec<String> {
    if session.remote {
        return vec!["À distance".into()];
    }
    let lines: Vec<String> = [
        session.location_label.as_deref(),
        session.location_city.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(|l| clip(Some(l), 50, ""))
    .filter(|l| !l.is_empty())
    .collect();
    if lines.is_empty() {
        vec!["Lieu communiqué aux inscrits".into()]
    } else {
        lines
    }
}

fn owner_address(xml: &mut XmlWriter, owner: &CatalogueOwner) {
    xml.open("adresse", &[])
        .leaf("ligne", &[], &clip(Some(&owner.street), 50, "-"))
        .leaf("codepostal", &[], &owner.postal_code)
        .leaf("ville", &[], &clip(Some(&owner.city), 50, "-"))
        .close();
}

fn owner_contact(xml: &mut XmlWriter, owner: &CatalogueOwner, with_address: bool) {
    xml.open("coordonnees", &[]);
    xml.leaf("ligne", &[], &clip(Some(&owner.name), 50, "-"));
    if with_address {
        owner_address(xml, owner);
    }
    if let Some(email) = &owner.email {
        xml.leaf("courriel", &[], email);
    }
    if let Some(web) = &owner.web {
        xml.leaf("web", &[], web);
    }
    xml.close();
}

fn action(
    xml: &mut XmlWriter,
    entry: &Entry,
    session: &OfferSession,
    owner: &CatalogueOwner,
    now: DateTime<Utc>,
) {
    let offer = &entry.offer;
    let audience = if entry.programmes.is_empty() {
        "Chefs de projet des programmes de l'ANCT".to_string()
    } else {
        format!(
            "Chefs de projet des programmes de l'ANCT : {}",
            entry.programmes.join(", ")
        )
    };
    let id = session.id.to_string();
    xml.open(
        "action",
        &[
            ("numero", &id),
            ("datecrea", &date(session.created_at)),
            ("datemaj", &date(session.updated_at)),
        ],
    );
    xml.leaf(
        "rythme-formation",
        &[],
        &format!(
            "Du {} au {}",
            session.starts_at.format("%d/%m/%Y"),
            session.ends_at.format("%d/%m/%Y")
        ),
    )
    .leaf(
        "code-public-vise",
        &[("ref", &owner.formacode_version)],
        &owner.audience_code,
    )
    .leaf("info-public-vise", &[], &clip(Some(&audience), 3000, "-"))
    .leaf("niveau-entree-obligatoire", &[], "0")
    .leaf("modalites-alternance", &[], "Sans objet")
    .leaf(
        "modalites-enseignement",
        &[],
        teaching_mode(&offer.modality, session.remote),
    )
    .leaf(
        "conditions-specifiques",
        &[],
        "Réservée aux chefs de projet des programmes de l'ANCT en poste dans une collectivité participante.",
    )
    .leaf("prise-en-charge-frais-possible", &[], "0");
    xml.open("lieu-de-formation", &[]).open("coordonnees", &[]);
    for line in place_lines(session) {
        xml.leaf("ligne", &[], &line);
    }
    xml.close().close();
    xml.leaf("modalites-entrees-sorties", &[], "0");
    let open = session.enrolment_opens_at <= now
        && now <= session.enrolment_closes_at
        && session.seats_left > 0;
    xml.open("session", &[("numero", &id)])
        .open("periode", &[])
        .leaf("debut", &[], &date(session.starts_at))
        .leaf("fin", &[], &date(session.ends_at))
        .close()
        .open("adresse-inscription", &[]);
    owner_address(xml, owner);
    xml.close()
        .open("periode-inscription", &[])
        .open("periode", &[])
        .leaf("debut", &[], &date(session.enrolment_opens_at))
        .leaf("fin", &[], &date(session.enrolment_closes_at))
        .close()
        .close()
        .leaf("etat-recrutement", &[], if open { "1" } else { "2" })
        .close();
    let hours = offer.duration_hours.round().clamp(0.0, 99_999.0) as i64;
    xml.leaf("nombre-heures-total", &[], &hours.to_string());
    xml.close();
}

/// The LHÉO document of `entries` (at least one: the standard wants an offer).
pub fn render(entries: &[Entry], owner: &CatalogueOwner, now: DateTime<Utc>) -> String {
    let mut xml = XmlWriter::new();
    xml.open("lheo", &[("xmlns", NAMESPACE)])
        .open("offres", &[]);
    for entry in entries {
        let offer = &entry.offer;
        xml.open(
            "formation",
            &[
                ("numero", &offer.code),
                ("datecrea", &date(offer.created_at)),
                ("datemaj", &date(offer.updated_at)),
            ],
        );
        let objectives = offer.objectives.as_deref().or(offer.summary.as_deref());
        xml.open("domaine-formation", &[])
            .close()
            .leaf(
                "intitule-formation",
                &[],
                &clip(Some(&offer.title), 255, &offer.code),
            )
            .leaf(
                "objectif-formation",
                &[],
                &clip(objectives, 3000, &offer.title),
            )
            .leaf(
                "resultats-attendus",
                &[],
                &clip(offer.objectives.as_deref(), 3000, &offer.title),
            )
            .leaf(
                "contenu-formation",
                &[],
                &clip(offer.summary.as_deref(), 3000, &offer.title),
            )
            .leaf("certifiante", &[], "0");
        xml.open("contact-formation", &[]).open("coordonnees", &[]);
        xml.leaf("ligne", &[], &clip(Some(&offer.provider), 50, &owner.name));
        if let Some(email) = &owner.email {
            xml.leaf("courriel", &[], email);
        }
        if let Some(web) = &owner.web {
            xml.leaf("web", &[], web);
        }
        xml.close().close();
        xml.leaf("parcours-de-formation", &[], "1")
            .leaf("code-niveau-entree", &[], "1");
        for session in &entry.sessions {
            action(&mut xml, entry, session, owner, now);
        }
        xml.open("organisme-formation-responsable", &[])
            .leaf("numero-activite", &[], &owner.activity_number)
            .open("SIRET-organisme-formation", &[])
            .leaf("SIRET", &[], &owner.siret)
            .close()
            .leaf("nom-organisme", &[], &clip(Some(&owner.name), 250, "-"))
            .leaf(
                "raison-sociale",
                &[],
                &clip(Some(&owner.legal_name), 250, "-"),
            )
            .open("coordonnees-organisme", &[]);
        owner_contact(&mut xml, owner, true);
        xml.close().open("contact-organisme", &[]);
        owner_contact(&mut xml, owner, false);
        xml.close().close();
        xml.close();
    }
    xml.finish()
}

/// Training catalogue (LHÉO)
///
/// The published trainings you may read that have sessions to come, in LHÉO 2.3
/// (`http://lheo.gouv.fr/2.3`), the French standard for exchanging training offers: one
/// `<formation>` per training, one `<action>` with one `<session>` per session (dates,
/// registration period, whether registration is open, place or remote). The responsible
/// organisation comes from the `LHEO_*` configuration. 204 when no training has a session to
/// come: LHÉO has no empty catalogue.
#[utoipa::path(
    tag = "trainings",
    operation_id = "get_lheo_catalogue",
    security(("oauth2" = ["trainings:read"])),
    responses(
        (status = 200, description = "The catalogue", content_type = "application/xml", body = String,
            example = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lheo xmlns=\"http://lheo.gouv.fr/2.3\"><offres><formation numero=\"PVD-01\" datecrea=\"20261126\" datemaj=\"20261126\"><domaine-formation></domaine-formation><intitule-formation>Piloter un projet de revitalisation</intitule-formation>…</formation></offres></lheo>\n"),
        (status = 204, description = "No published training has a session to come"),
        Common,
    )
)]
#[get("/catalogue/lheo")]
pub async fn get_lheo_catalogue(
    caller: Caller,
    pool: web::Data<DbPool>,
    owner: web::Data<CatalogueOwner>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::TrainingsRead)?;
    let mut conn = pool.get().await?;
    let entries = load(&mut conn, &caller.visibility()).await?;
    drop(conn);
    if entries.is_empty() {
        return Ok(HttpResponse::NoContent().finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(render(&entries, &owner, Utc::now())))
}
