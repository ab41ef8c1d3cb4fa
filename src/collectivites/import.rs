//! `anct-formations import communes --programme <code> <file.csv> [--dry-run]`: loads the
//! communes of a programme from a file as ANCT publishes them (`../shared/data/`).
//!
//! The file is read as it is: columns are found by name (`insee_com`, `lib_com`, `insee_dep`,
//! `insee_reg` or `lib_reg`, `siren_epci`, `pop`, `id_…`, `date_signature`), `NA` means
//! missing. Each row is checked like an API request; a row that fails is reported with its line
//! and reason and the others are imported. Importing the same file twice changes nothing.

use std::io::Read;

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::collectivites::rows::CollectiviteRow;
use crate::db::schema::{collectivite_programmes, collectivites, programmes};
use crate::values::{DepartmentCode, InseeCode, RegionCode, Siren};

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rejection {
    /// Line in the file (the header is line 1).
    pub line: u64,
    pub reason: String,
}

/// What an import did (or, with `--dry-run`, would do).
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Communes already known whose membership of the programme was added or changed.
    pub memberships_changed: usize,
    pub rejected: Vec<Rejection>,
    pub dry_run: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no programme has the code `{0}`")]
    UnknownProgramme(String),
    #[error("the file has no `{0}` column")]
    MissingColumn(&'static str),
    #[error("cannot read the file: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// A row that passed every check.
#[derive(Debug, Clone)]
struct CommuneRow {
    insee: InseeCode,
    name: String,
    department: DepartmentCode,
    region: Option<RegionCode>,
    epci_siren: Option<Siren>,
    population: Option<i32>,
    external_ref: Option<String>,
    joined_on: Option<NaiveDate>,
}

/// Column positions, found by name.
struct Columns {
    insee: usize,
    name: usize,
    department: Option<usize>,
    region_code: Option<usize>,
    region_name: Option<usize>,
    epci_siren: Option<usize>,
    population: Option<usize>,
    external_ref: Option<usize>,
    joined_on: Option<usize>,
}

impl Columns {
    fn find(headers: &csv::StringRecord) -> Result<Self, ImportError> {
        let position = |name: &str| headers.iter().position(|h| h.trim() == name);
        Ok(Self {
            insee: position("insee_com").ok_or(ImportError::MissingColumn("insee_com"))?,
            name: position("lib_com").ok_or(ImportError::MissingColumn("lib_com"))?,
            department: position("insee_dep"),
            region_code: position("insee_reg"),
            region_name: position("lib_reg"),
            epci_siren: position("siren_epci"),
            population: position("pop"),
            external_ref: headers.iter().position(|h| h.trim().starts_with("id_")),
            joined_on: position("date_signature"),
        })
    }
}

/// A cell's text, with `NA` and blanks as missing.
fn cell(record: &csv::StringRecord, index: Option<usize>) -> Option<&str> {
    let value = record.get(index?)?.trim();
    (!value.is_empty() && value != "NA").then_some(value)
}

/// `MM/YYYY`, `DD/MM/YYYY` or `YYYY-MM-DD`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(&format!("01/{text}"), "%d/%m/%Y"))
        .ok()
}

fn check_row(record: &csv::StringRecord, columns: &Columns) -> Result<CommuneRow, String> {
    let insee_text = record.get(columns.insee).unwrap_or_default().trim();
    let insee = InseeCode::parse("insee_com", insee_text)
        .map_err(|e| format!("insee_com `{insee_text}`: {}", e.message))?;
    let name = cell(record, Some(columns.name))
        .ok_or("lib_com is empty")?
        .to_string();
    let department = insee.department();
    if let Some(given) = cell(record, columns.department) {
        let given = DepartmentCode::parse("insee_dep", given).map_err(|e| e.message)?;
        if given != department {
            return Err(format!(
                "insee_dep {} does not match the INSEE code {}",
                given.as_str(),
                insee.as_str()
            ));
        }
    }
    let region = match (
        cell(record, columns.region_code),
        cell(record, columns.region_name),
    ) {
        (Some(code), _) => Some(RegionCode::parse("insee_reg", code).map_err(|e| e.message)?),
        (None, Some(name)) => Some(
            RegionCode::from_name(name)
                .ok_or_else(|| format!("lib_reg `{name}` is not a region"))?,
        ),
        (None, None) => None,
    };
    let epci_siren = cell(record, columns.epci_siren)
        .map(|s| Siren::parse("siren_epci", s).map_err(|e| e.message))
        .transpose()?;
    let population = cell(record, columns.population)
        .map(|p| {
            p.parse::<i32>()
                .map_err(|_| format!("pop `{p}` is not a whole number"))
        })
        .transpose()?;
    let joined_on = cell(record, columns.joined_on)
        .map(|d| parse_date(d).ok_or_else(|| format!("date_signature `{d}` is not a date")))
        .transpose()?;
    Ok(CommuneRow {
        insee,
        name,
        department,
        region,
        epci_siren,
        population,
        external_ref: cell(record, columns.external_ref).map(str::to_string),
        joined_on,
    })
}

/// Reads and checks every row; the valid ones and the rejections, in file order.
fn read_rows(input: impl Read) -> Result<(Vec<CommuneRow>, Vec<Rejection>), ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let columns = Columns::find(reader.headers()?)?;
    let mut rows = Vec::new();
    let mut rejected = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let fallback_line = index as u64 + 2;
        match record {
            Err(error) => rejected.push(Rejection {
                line: error.position().map_or(fallback_line, |p| p.line()),
                reason: format!("unreadable row: {error}"),
            }),
            Ok(record) => {
                let line = record.position().map_or(fallback_line, |p| p.line());
                match check_row(&record, &columns) {
                    Ok(row) => {
                        if rows.iter().any(|r: &CommuneRow| r.insee == row.insee) {
                            rejected.push(Rejection {
                                line,
                                reason: format!(
                                    "INSEE code {} appears earlier in the file",
                                    row.insee.as_str()
                                ),
                            });
                        } else {
                            rows.push(row);
                        }
                    }
                    Err(reason) => rejected.push(Rejection { line, reason }),
                }
            }
        }
    }
    Ok((rows, rejected))
}

/// Imports the communes of `input` into the programme `programme_code`, in one transaction.
pub async fn import_communes(
    conn: &mut AsyncPgConnection,
    programme_code: &str,
    input: impl Read,
    cog_year: i32,
    dry_run: bool,
) -> Result<ImportReport, ImportError> {
    let (rows, rejected) = read_rows(input)?;
    let mut report = ImportReport {
        rows: rows.len() + rejected.len(),
        rejected,
        dry_run,
        ..ImportReport::default()
    };
    let outcome = conn
        .transaction::<_, ImportError, _>(async |conn| {
            let programme_id: Uuid = programmes::table
                .filter(programmes::code.eq(programme_code))
                .filter(programmes::deleted_at.is_null())
                .select(programmes::id)
                .first(conn)
                .await
                .optional()?
                .ok_or_else(|| ImportError::UnknownProgramme(programme_code.to_string()))?;
            for row in &rows {
                apply_row(conn, row, programme_id, cog_year, &mut report).await?;
            }
            if dry_run {
                // Everything was checked against the database; nothing is kept.
                Err(ImportError::Database(
                    diesel::result::Error::RollbackTransaction,
                ))
            } else {
                Ok(())
            }
        })
        .await;
    match outcome {
        Ok(()) => Ok(report),
        Err(ImportError::Database(diesel::result::Error::RollbackTransaction)) if dry_run => {
            Ok(report)
        }
        Err(error) => Err(error),
    }
}

async fn apply_row(
    conn: &mut AsyncPgConnection,
    row: &CommuneRow,
    programme_id: Uuid,
    cog_year: i32,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    let existing: Option<CollectiviteRow> = collectivites::table
        .filter(collectivites::deleted_at.is_null())
        .filter(collectivites::insee_code.eq(row.insee.as_str()))
        .order(collectivites::cog_year.desc())
        .select(CollectiviteRow::as_select())
        .first(conn)
        .await
        .optional()?;
    let values = (
        collectivites::name.eq(&row.name),
        collectivites::epci_siren.eq(row.epci_siren.as_ref().map(Siren::as_str)),
        collectivites::department_code.eq(Some(row.department.as_str())),
        collectivites::region_code.eq(row.region.as_ref().map(RegionCode::as_str)),
        collectivites::population.eq(row.population),
    );
    let created = existing.is_none();
    let id = match existing {
        None => {
            let id = Uuid::now_v7();
            diesel::insert_into(collectivites::table)
                .values((
                    collectivites::id.eq(id),
                    collectivites::kind.eq("commune"),
                    collectivites::insee_code.eq(row.insee.as_str()),
                    collectivites::cog_year.eq(cog_year),
                    values,
                ))
                .execute(conn)
                .await?;
            report.created += 1;
            id
        }
        Some(current) => {
            let same = current.name == row.name
                && current.epci_siren.as_deref() == row.epci_siren.as_ref().map(Siren::as_str)
                && current.department_code.as_deref() == Some(row.department.as_str())
                && current.region_code.as_deref() == row.region.as_ref().map(RegionCode::as_str)
                && current.population == row.population;
            if same {
                report.unchanged += 1;
            } else {
                diesel::update(collectivites::table.find(current.id))
                    .set((
                        values,
                        collectivites::version.eq(collectivites::version + 1),
                        collectivites::updated_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await?;
                report.updated += 1;
            }
            current.id
        }
    };
    let membership = collectivite_programmes::table
        .find((id, programme_id))
        .select((
            collectivite_programmes::joined_on,
            collectivite_programmes::external_ref,
        ))
        .first::<(Option<NaiveDate>, Option<String>)>(conn)
        .await
        .optional()?;
    let wanted = (row.joined_on, row.external_ref.clone());
    let membership_changed = match membership {
        Some(current) if current == wanted => false,
        Some(_) => {
            diesel::update(collectivite_programmes::table.find((id, programme_id)))
                .set((
                    collectivite_programmes::joined_on.eq(row.joined_on),
                    collectivite_programmes::external_ref.eq(&row.external_ref),
                ))
                .execute(conn)
                .await?;
            true
        }
        None => {
            diesel::insert_into(collectivite_programmes::table)
                .values((
                    collectivite_programmes::collectivite_id.eq(id),
                    collectivite_programmes::programme_id.eq(programme_id),
                    collectivite_programmes::joined_on.eq(row.joined_on),
                    collectivite_programmes::external_ref.eq(&row.external_ref),
                ))
                .execute(conn)
                .await?;
            true
        }
    };
    // A new commune's membership is part of its creation; count the others.
    if membership_changed && !created {
        report.memberships_changed += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_files_read_with_one_rejection_the_placeholder() {
        let pvd = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/petites-villes-de-demain_communes.csv"
        ))
        .unwrap();
        let (rows, rejected) = read_rows(pvd.as_slice()).unwrap();
        assert_eq!(rows.len(), 1606);
        assert_eq!(rejected.len(), 1);
        assert!(rejected[0].reason.contains("999999"), "{:?}", rejected[0]);
        let ablis = rows.iter().find(|r| r.insee.as_str() == "78003").unwrap();
        assert_eq!(ablis.region.as_ref().unwrap().as_str(), "11");
        assert_eq!(ablis.external_ref.as_deref(), Some("pvd-11-78-1"));

        let acv = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/action-coeur-de-ville_communes.csv"
        ))
        .unwrap();
        let (rows, rejected) = read_rows(acv.as_slice()).unwrap();
        assert_eq!((rows.len(), rejected.len()), (244, 0));
        let ajaccio = rows.iter().find(|r| r.insee.as_str() == "2A004").unwrap();
        assert_eq!(ajaccio.department.as_str(), "2A");
        assert_eq!(ajaccio.region.as_ref().unwrap().as_str(), "94");
    }

    #[test]
    fn odd_rows_are_rejected_with_their_line() {
        let file = "id_pvd,insee_com,lib_com,insee_dep,lib_reg,siren_epci,pop,date_signature\n\
                    a,80001,Abbeville,80,Hauts-de-France,200070993,22595,03/2021\n\
                    b,80001,Abbeville bis,80,Hauts-de-France,NA,1,\n\
                    c,34003,Agde,33,Occitanie,NA,1,\n\
                    d,47001,Agen,47,Atlantide,NA,1,\n\
                    e,47001x,Agen,47,Occitanie,NA,1,\n\
                    f,16005,Aigre,16,Nouvelle-Aquitaine,200072024,1,\n\
                    g,23001,Ahun,23,Nouvelle-Aquitaine,NA,many,\n";
        let (rows, rejected) = read_rows(file.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].joined_on, NaiveDate::from_ymd_opt(2021, 3, 1));
        let lines: Vec<u64> = rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{rejected:?}");
    }
}
