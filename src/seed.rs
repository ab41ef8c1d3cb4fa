//! `anct-formations seed`: the programmes, the communes of the published files and a small demo
//! set, so a newcomer sees a living API. Idempotent: what exists is left as it is.

use std::path::Path;

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::auth::Visibility;
use crate::chefs_de_projet::{domain::ChefDraft, store as chefs, views::ChefDeProjetInput};
use crate::collectivites::import::import_communes;
use crate::db::schema::{collectivites, programmes, trainings};
use crate::enrolments::lifecycle::{self, Actor};
use crate::error::ApiError;
use crate::programmes::{domain::ProgrammeDraft, store as programme_store, views::ProgrammeInput};
use crate::sessions::{
    domain::SessionDraft,
    store as sessions,
    views::{Location, SessionInput},
};
use crate::trainings::{
    domain::TrainingDraft,
    store as training_store,
    views::{Modality, TrainingInput, TrainingStatus},
};

/// The programmes of ANCT this service starts with: code, name, start, end.
const PROGRAMMES: [(&str, &str, &str, Option<&str>); 4] = [
    (
        "petites-villes-de-demain",
        "Petites villes de demain",
        "2020-10-01",
        Some("2026-12-31"),
    ),
    (
        "action-coeur-de-ville",
        "Action cœur de ville",
        "2018-03-27",
        Some("2026-12-31"),
    ),
    (
        "territoires-d-industrie",
        "Territoires d'industrie",
        "2018-11-22",
        None,
    ),
    ("villages-d-avenir", "Villages d'avenir", "2023-12-01", None),
];

/// The published files and the year of their INSEE code lists (see data/README.md).
const FILES: [(&str, &str, i32); 2] = [
    (
        "petites-villes-de-demain",
        "petites-villes-de-demain_communes.csv",
        2021,
    ),
    (
        "action-coeur-de-ville",
        "action-coeur-de-ville_communes.csv",
        2025,
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("{0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Import(#[from] crate::collectivites::import::ImportError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("cannot open {0}: {1}")]
    File(String, std::io::Error),
}

/// Seeds programmes, communes and, unless `demo` is false or trainings exist, the demo set.
/// Returns one line per step, for the console.
pub async fn seed(
    conn: &mut AsyncPgConnection,
    data_dir: &Path,
    demo: bool,
) -> Result<Vec<String>, SeedError> {
    let mut report = Vec::new();
    for (code, name, started_on, ended_on) in PROGRAMMES {
        let exists: i64 = programmes::table
            .filter(programmes::code.eq(code))
            .filter(programmes::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        if exists == 0 {
            let draft = ProgrammeDraft::try_from(ProgrammeInput {
                code: code.into(),
                name: name.into(),
                description: None,
                status: None,
                started_on: started_on.parse().expect("a valid date"),
                ended_on: ended_on.map(|d| d.parse::<NaiveDate>().expect("a valid date")),
            })?;
            programme_store::create(conn, &draft).await?;
            report.push(format!("created programme {code}"));
        }
    }
    for (programme, file, cog_year) in FILES {
        let path = data_dir.join(file);
        let input = std::fs::File::open(&path)
            .map_err(|e| SeedError::File(path.display().to_string(), e))?;
        let outcome = import_communes(conn, programme, input, cog_year, false).await?;
        report.push(format!(
            "{file}: {} created, {} updated, {} unchanged, {} rejected",
            outcome.created,
            outcome.updated,
            outcome.unchanged,
            outcome.rejected.len()
        ));
    }
    let trainings_exist: i64 = trainings::table.count().get_result(conn).await?;
    if demo && trainings_exist == 0 {
        conn.transaction::<_, SeedError, _>(async |conn| demo_set(conn).await)
            .await?;
        report.push(
            "created the demo set: 3 trainings, 4 sessions, 6 chefs de projet, 6 enrolments".into(),
        );
    }
    Ok(report)
}

async fn commune_id(conn: &mut AsyncPgConnection, insee: &str) -> Result<uuid::Uuid, SeedError> {
    Ok(collectivites::table
        .filter(collectivites::insee_code.eq(insee))
        .filter(collectivites::deleted_at.is_null())
        .select(collectivites::id)
        .first(conn)
        .await?)
}

async fn demo_set(conn: &mut AsyncPgConnection) -> Result<(), SeedError> {
    let training =
        |code: &str, title: &str, hours: f64, modality, targets: &[&str]| TrainingInput {
            code: code.into(),
            title: title.into(),
            summary: Some(format!(
                "{title} : méthodes, outils et retours d'expérience."
            )),
            objectives: None,
            duration_hours: hours,
            modality,
            provider: Some("CNFPT".into()),
            target_programmes: targets.iter().map(|t| t.to_string()).collect(),
            status: Some(TrainingStatus::Published),
        };
    let revitalisation = training_store::create(
        conn,
        &TrainingDraft::try_from(training(
            "PVD-REVITA-01",
            "Revitaliser un centre-bourg",
            14.0,
            Modality::InPerson,
            &["petites-villes-de-demain"],
        ))?,
        &Visibility::All,
    )
    .await?;
    let commerce = training_store::create(
        conn,
        &TrainingDraft::try_from(training(
            "ACV-COMMERCE-01",
            "Redynamiser le commerce de centre-ville",
            7.0,
            Modality::Hybrid,
            &["action-coeur-de-ville"],
        ))?,
        &Visibility::All,
    )
    .await?;
    let pilotage = training_store::create(
        conn,
        &TrainingDraft::try_from(training(
            "ANCT-PILOTAGE-01",
            "Piloter un projet de territoire",
            3.5,
            Modality::Remote,
            &[],
        ))?,
        &Visibility::All,
    )
    .await?;

    let now = Utc::now();
    let session =
        |training_id, days: i64, capacity, approval, place: Option<(&str, &str, &str)>| {
            SessionInput {
                training_id,
                starts_at: now + Duration::days(days),
                ends_at: now + Duration::days(days) + Duration::hours(7),
                remote: place.is_none(),
                location: place.map(|(city, insee, region)| Location {
                    label: Some(format!("CNFPT, {city}")),
                    city: city.into(),
                    insee_code: Some(insee.into()),
                    region_code: Some(region.into()),
                }),
                capacity,
                enrolment_opens_at: now - Duration::days(1),
                enrolment_closes_at: now + Duration::days(days - 7),
                requires_approval: approval,
            }
        };
    let rennes = sessions::create(
        conn,
        &SessionDraft::try_from(session(
            revitalisation.id,
            30,
            3,
            false,
            Some(("Rennes", "35238", "53")),
        ))?,
        &Visibility::All,
    )
    .await?;
    let lyon = sessions::create(
        conn,
        &SessionDraft::try_from(session(
            revitalisation.id,
            45,
            20,
            true,
            Some(("Lyon", "69123", "84")),
        ))?,
        &Visibility::All,
    )
    .await?;
    sessions::create(
        conn,
        &SessionDraft::try_from(session(
            commerce.id,
            40,
            15,
            true,
            Some(("Bordeaux", "33063", "75")),
        ))?,
        &Visibility::All,
    )
    .await?;
    let visio = sessions::create(
        conn,
        &SessionDraft::try_from(session(pilotage.id, 20, 50, false, None))?,
        &Visibility::All,
    )
    .await?;

    let people = [
        (
            "Camille",
            "Martin",
            "camille.martin@mairie-ablis.fr",
            "78003",
            "petites-villes-de-demain",
        ),
        (
            "Hélène",
            "Lefèvre",
            "helene.lefevre@mairie-ahun.fr",
            "23001",
            "petites-villes-de-demain",
        ),
        (
            "Yannick",
            "Le Gall",
            "yannick.legall@mairie-aigre.fr",
            "16005",
            "petites-villes-de-demain",
        ),
        (
            "Inès",
            "Benali",
            "ines.benali@mairie-agon-coutainville.fr",
            "50003",
            "petites-villes-de-demain",
        ),
        (
            "Jean-Baptiste",
            "Orsini",
            "jb.orsini@ville-ajaccio.fr",
            "2A004",
            "action-coeur-de-ville",
        ),
        (
            "Sophie",
            "Durand",
            "sophie.durand@ville-agen.fr",
            "47001",
            "action-coeur-de-ville",
        ),
    ];
    let mut chef_ids = Vec::new();
    for (first, last, email, insee, programme) in people {
        let employer = commune_id(conn, insee).await?;
        let chef = chefs::create(
            conn,
            &ChefDraft::try_from(ChefDeProjetInput {
                first_name: first.into(),
                last_name: last.into(),
                email: email.into(),
                phone: None,
                collectivite_id: employer,
                programmes: vec![programme.into()],
                status: None,
            })?,
            &Visibility::All,
        )
        .await?;
        chef_ids.push(chef.id);
    }
    let demo = Actor("demo-seed".into());
    // Rennes has 3 seats: the fourth PVD chef lands on the waitlist.
    for chef in &chef_ids[..4] {
        lifecycle::enrol(conn, rennes.id, *chef, &demo).await?;
    }
    lifecycle::enrol(conn, lyon.id, chef_ids[0], &demo).await?;
    lifecycle::enrol(conn, visio.id, chef_ids[4], &demo).await?;
    Ok(())
}
