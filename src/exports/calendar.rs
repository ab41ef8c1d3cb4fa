//! The sessions calendar in iCalendar (RFC 5545), per programme and per region, for calendar
//! applications to subscribe to. They cannot send a token, so the feed is public and holds only
//! what a public catalogue would: sessions of published trainings, no enrolment, nobody's name.

use actix_web::{get, http::header, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::schema::{sessions, training_programmes, trainings};
use crate::db::DbPool;
use crate::error::{ApiError, FieldError};
use crate::http::QueryParams;
use crate::openapi::responses::{
    BadRequest, InternalError, ServiceUnavailable, UnprocessableEntity,
};

/// Which sessions a calendar holds.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Only sessions of trainings open to this programme (targeting it, or open to all); an
    /// unknown code is a 422.
    #[param(
        example = "petites-villes-de-demain",
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length = 64
    )]
    pub programme: Option<String>,
    /// Only sessions held in this region (COG code, `53` for Bretagne).
    #[param(example = "53", pattern = "^[0-9]{2,3}$")]
    pub region: Option<String>,
}

/// One event.
#[derive(Debug, Queryable)]
pub struct CalendarSession {
    pub id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub remote: bool,
    pub location_label: Option<String>,
    pub location_city: Option<String>,
    pub status: String,
    pub seats_left: i32,
    pub enrolment_closes_at: DateTime<Utc>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    pub training_code: String,
    pub title: String,
    pub summary: Option<String>,
}

/// How far back a calendar goes.
const HISTORY: Duration = Duration::days(180);

/// Sessions of published trainings, from `HISTORY` ago on, in start order.
pub async fn load(
    conn: &mut AsyncPgConnection,
    query: &CalendarQuery,
) -> Result<Vec<CalendarSession>, ApiError> {
    let mut sql = sessions::table
        .inner_join(trainings::table)
        .filter(sessions::deleted_at.is_null())
        .filter(trainings::deleted_at.is_null())
        .filter(trainings::status.eq("published"))
        .filter(sessions::ends_at.ge(Utc::now() - HISTORY))
        .order((sessions::starts_at.asc(), sessions::id.asc()))
        .select((
            sessions::id,
            sessions::starts_at,
            sessions::ends_at,
            sessions::remote,
            sessions::location_label,
            sessions::location_city,
            sessions::status,
            sessions::capacity - sessions::seats_confirmed,
            sessions::enrolment_closes_at,
            sessions::version,
            sessions::updated_at,
            trainings::code,
            trainings::title,
            trainings::summary,
        ))
        .into_boxed();
    if let Some(code) = query.programme.as_deref().map(str::trim) {
        let ids = crate::programmes::store::resolve_codes(
            conn,
            &[code.to_string()],
            |_| "programme".into(),
            &Visibility::All,
        )
        .await?;
        let targeting = training_programmes::table
            .filter(training_programmes::programme_id.eq_any(ids))
            .select(training_programmes::training_id);
        let targeted = training_programmes::table.select(training_programmes::training_id);
        sql = sql.filter(
            sessions::training_id
                .eq_any(targeting)
                .or(diesel::dsl::not(sessions::training_id.eq_any(targeted))),
        );
    }
    if let Some(region) = query.region.as_deref().map(str::trim) {
        let valid = (2..=3).contains(&region.len()) && region.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err(ApiError::invalid_query(vec![FieldError::new(
                "region",
                "invalid_format",
                "region must be a region code of 2 or 3 digits (COG)",
            )]));
        }
        sql = sql.filter(sessions::region_code.eq(region.to_string()));
    }
    Ok(sql.load(conn).await?)
}

/// TEXT value escaping (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded at 75 octets without splitting a character (§3.1).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The calendar's text.
pub fn render(name: &str, sessions: &[CalendarSession]) -> String {
    let mut out = String::new();
    for content in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//ANCT//anct-formations//FR",
        "CALSCALE:GREGORIAN",
        "REFRESH-INTERVAL;VALUE=DURATION:PT1H",
        "X-PUBLISHED-TTL:PT1H",
    ] {
        line(&mut out, content);
    }
    line(&mut out, &format!("NAME:{}", text(name)));
    line(&mut out, &format!("X-WR-CALNAME:{}", text(name)));
    for s in sessions {
        let cancelled = s.status == "cancelled";
        let place = if s.remote {
            "À distance".to_string()
        } else {
            [s.location_label.as_deref(), s.location_city.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut description = format!("Formation {}", s.training_code);
        if let Some(summary) = s.summary.as_deref().filter(|t| !t.trim().is_empty()) {
            description.push_str(&format!("\n\n{}", summary.trim()));
        }
        if s.status == "scheduled" {
            description.push_str(&format!(
                "\n\nPlaces restantes : {}. Inscriptions jusqu'au {} (UTC).",
                s.seats_left.max(0),
                s.enrolment_closes_at.format("%d/%m/%Y %H:%M")
            ));
        }
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}@anct-formations", s.id));
        // Without METHOD, DTSTAMP is the last modification (§3.8.7.2): the text depends on the
        // data alone, so its digest is a sound ETag.
        line(&mut out, &format!("DTSTAMP:{}", stamp(s.updated_at)));
        line(&mut out, &format!("DTSTART:{}", stamp(s.starts_at)));
        line(&mut out, &format!("DTEND:{}", stamp(s.ends_at)));
        line(&mut out, &format!("SEQUENCE:{}", s.version));
        line(&mut out, &format!("LAST-MODIFIED:{}", stamp(s.updated_at)));
        let prefix = if cancelled { "ANNULÉE – " } else { "" };
        line(&mut out, &format!("SUMMARY:{prefix}{}", text(&s.title)));
        if !place.is_empty() {
            line(&mut out, &format!("LOCATION:{}", text(&place)));
        }
        line(&mut out, &format!("DESCRIPTION:{}", text(&description)));
        let status = if cancelled { "CANCELLED" } else { "CONFIRMED" };
        line(&mut out, &format!("STATUS:{status}"));
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

fn calendar_name(query: &CalendarQuery) -> String {
    let mut name = "Formations des chefs de projet ANCT".to_string();
    if let Some(programme) = &query.programme {
        name.push_str(&format!(" – {}", programme.trim()));
    }
    if let Some(region) = &query.region {
        name.push_str(&format!(" – région {}", region.trim()));
    }
    name
}

/// Sessions calendar (iCalendar)
///
/// An iCalendar feed (RFC 5545) of the sessions of published trainings, for calendar
/// applications to subscribe to (Outlook, Google Agenda, Thunderbird …): one event per session,
/// from six months ago on, updated in place when it changes (`SEQUENCE` is its version) and
/// marked cancelled when it is. Narrow it with `programme` and `region`. Public, like a
/// catalogue: calendar applications cannot send a token, and the feed holds no personal data.
/// Supports `If-None-Match`.
#[utoipa::path(
    tag = "sessions",
    operation_id = "get_sessions_calendar",
    params(CalendarQuery),
    responses(
        (status = 200, description = "The calendar", content_type = "text/calendar; charset=utf-8", body = String,
            headers(("ETag" = String, description = "A tag of the calendar's content")),
            example = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//ANCT//anct-formations//FR\r\n…\r\nBEGIN:VEVENT\r\nUID:0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718@anct-formations\r\nDTSTART:20261215T083000Z\r\nDTEND:20261216T163000Z\r\nSUMMARY:Piloter un projet de revitalisation\r\nLOCATION:CNFPT Bretagne\\, Rennes\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
        (status = 304, description = "The client's copy is current"),
        (status = 400, response = BadRequest),
        (status = 422, response = UnprocessableEntity),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
#[get("/calendar/sessions.ics")]
pub async fn get_sessions_calendar(
    pool: web::Data<DbPool>,
    query: QueryParams<CalendarQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let mut conn = pool.get().await?;
    let sessions = load(&mut conn, &query).await?;
    drop(conn);
    let body = render(&calendar_name(&query), &sessions);
    let tag = format!("\"{}\"", &base16(&Sha256::digest(body.as_bytes()))[..32]);
    let held = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == tag)
        });
    if held {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::ETAG, tag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .body(body))
}

fn base16(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_between_characters_and_text_is_escaped() {
        let mut out = String::new();
        line(
            &mut out,
            &format!("SUMMARY:{}", text(&"é; ,\\\n".repeat(20))),
        );
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{physical:?}");
        }
        let unfolded = out.replace("\r\n ", "");
        assert!(
            unfolded.starts_with("SUMMARY:é\\; \\,\\\\\\né"),
            "{unfolded}"
        );
    }
}
