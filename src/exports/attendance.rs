//! The attendance sheet of a session, as CSV that a French spreadsheet opens as it is: UTF-8
//! with a byte-order mark, `;` between cells, CRLF line ends, one row per chef de projet holding
//! a seat (or whose attendance is recorded), by name, with an empty column to sign.

use actix_web::{get, http::header, web, HttpResponse};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::{Caller, Scope, Visibility};
use crate::db::schema::{chefs_de_projet, collectivites, enrolments, trainings};
use crate::db::DbPool;
use crate::enrolments::views::EnrolmentStatus;
use crate::error::ApiError;
use crate::http::ResourceKey;
use crate::openapi::responses::{Common, NotFound};

/// One line of the sheet.
#[derive(Debug, Queryable)]
pub struct Attendee {
    pub last_name: String,
    pub first_name: String,
    pub email: String,
    pub collectivite: String,
    pub status: String,
}

const HEADER: [&str; 6] = [
    "Nom",
    "Prénom",
    "Courriel",
    "Collectivité",
    "Statut",
    "Signature",
];

/// The statuses that put someone on the sheet.
const ON_THE_SHEET: [EnrolmentStatus; 3] = [
    EnrolmentStatus::Confirmed,
    EnrolmentStatus::Attended,
    EnrolmentStatus::Absent,
];

fn status_label(status: &str) -> &'static str {
    match EnrolmentStatus::from_db(status) {
        EnrolmentStatus::Attended => "Présent·e",
        EnrolmentStatus::Absent => "Absent·e",
        _ => "Inscrit·e",
    }
}

/// A cell a spreadsheet will not run as a formula (CSV injection): text starting with `=`, `+`,
/// `-`, `@` or a control character gets a leading apostrophe.
fn inert(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

/// The sheet's bytes.
pub fn render(attendees: &[Attendee]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    let mut write = |cells: &[&str]| {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(cells.iter().map(|c| inert(c)));
    };
    write(&HEADER);
    for a in attendees {
        write(&[
            &a.last_name,
            &a.first_name,
            &a.email,
            &a.collectivite,
            status_label(&a.status),
            "",
        ]);
    }
    writer.into_inner().unwrap_or_default()
}

/// The attendees of a session the caller sees, and the file name of its sheet.
pub async fn load(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    visibility: &Visibility,
) -> Result<(Vec<Attendee>, String), ApiError> {
    let session = crate::sessions::store::find(conn, session_id, visibility).await?;
    let code: String = trainings::table
        .find(session.training_id)
        .select(trainings::code)
        .first(conn)
        .await?;
    let statuses: Vec<&str> = ON_THE_SHEET.iter().map(|s| s.as_str()).collect();
    let mut query = enrolments::table
        .inner_join(chefs_de_projet::table.inner_join(collectivites::table))
        .filter(enrolments::session_id.eq(session_id))
        .filter(enrolments::status.eq_any(statuses))
        .order((
            chefs_de_projet::last_name.asc(),
            chefs_de_projet::first_name.asc(),
            chefs_de_projet::id.asc(),
        ))
        .select((
            chefs_de_projet::last_name,
            chefs_de_projet::first_name,
            chefs_de_projet::email,
            collectivites::name,
            enrolments::status,
        ))
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(
            enrolments::chef_de_projet_id.eq_any(crate::chefs_de_projet::store::visible_ids(mine)),
        );
    }
    let attendees = query.load(conn).await?;
    let safe_code: String = code
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file_name = format!(
        "emargement-{safe_code}-{}.csv",
        session.starts_at.format("%Y-%m-%d")
    );
    Ok((attendees, file_name))
}

/// Attendance sheet of a session (CSV)
///
/// The chefs de projet holding a seat on the session (or whose attendance is recorded), sorted
/// by name: `Nom;Prénom;Courriel;Collectivité;Statut;Signature`. UTF-8 with a byte-order mark,
/// `;`-separated, CRLF: it opens as it is in a French spreadsheet. Personal data: needs
/// `people:read` besides `enrolments:read`. A restricted client sees the chefs de projet of its
/// programmes only.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_session_attendance_sheet",
    security(("oauth2" = ["enrolments:read", "people:read"])),
    params(("id" = uuid::Uuid, Path, description = "The session's id (or `ref:<reference>`)")),
    responses(
        (status = 200, description = "The sheet", content_type = "text/csv; charset=utf-8", body = String,
            headers(("Content-Disposition" = String, description = "`attachment; filename=\"emargement-<training code>-<date>.csv\"`")),
            example = "\u{feff}Nom;Prénom;Courriel;Collectivité;Statut;Signature\r\nMartin;Camille;camille.martin@mairie-ablis.fr;Ablis;Inscrit·e;\r\n"),
        (status = 404, response = NotFound),
        Common,
    )
)]
#[get("/sessions/{id}/attendance-sheet")]
pub async fn get_session_attendance_sheet(
    caller: Caller,
    pool: web::Data<DbPool>,
    key: ResourceKey,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::EnrolmentsRead)?;
    caller.require(Scope::PeopleRead)?;
    let mut conn = pool.get().await?;
    let (attendees, file_name) = load(&mut conn, key.0, &caller.visibility()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(render(&attendees)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_separators_quoted() {
        let bytes = render(&[Attendee {
            last_name: "=HYPERLINK(\"x\")".into(),
            first_name: "Anne; Marie".into(),
            email: "a@b.fr".into(),
            collectivite: "Château-Thierry".into(),
            status: "attended".into(),
        }]);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let line = text.split("\r\n").nth(1).unwrap();
        assert_eq!(
            line,
            "\"'=HYPERLINK(\"\"x\"\")\";\"Anne; Marie\";a@b.fr;Château-Thierry;Présent·e;"
        );
    }
}
