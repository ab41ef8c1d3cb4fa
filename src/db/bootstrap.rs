//! Creates the service's database when the server has none of that name yet, so a fresh
//! PostgreSQL needs no manual step.

use diesel::{sql_query, sql_types::Text, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::DbError;

/// `url` split into the database name and the same URL pointing at the `postgres` database.
pub fn split_database(url: &str) -> Option<(String, String)> {
    let (base, _) = url.split_once('?').unwrap_or((url, ""));
    let authority_start = base.find("://")? + 3;
    let name = &base[authority_start + base[authority_start..].find('/')? + 1..];
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), with_database(url, "postgres")?))
}

/// `url` with its database name replaced by `name`, other parts kept.
pub fn with_database(url: &str, name: &str) -> Option<String> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://")? + 3;
    let slash = authority_start + base[authority_start..].find('/')?;
    let mut result = format!("{}/{name}", &base[..slash]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    Some(result)
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    #[allow(dead_code)]
    datname: String,
}

/// Creates the database named in `url` if it does not exist. Returns whether it was created.
pub async fn ensure_database(url: &str) -> Result<bool, DbError> {
    let Some((name, admin_url)) = split_database(url) else {
        return Ok(false);
    };
    let mut conn = AsyncPgConnection::establish(&admin_url)
        .await
        .map_err(|e| DbError::Unavailable(e.to_string()))?;
    let existing: Vec<Name> = sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(&name)
        .load(&mut conn)
        .await?;
    if !existing.is_empty() {
        return Ok(false);
    }
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    sql_query(format!("CREATE DATABASE {quoted}"))
        .execute(&mut conn)
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::split_database;

    #[test]
    fn the_admin_url_keeps_host_credentials_and_options() {
        assert_eq!(
            split_database("postgres://u:p@h:5432/app?sslmode=disable"),
            Some((
                "app".into(),
                "postgres://u:p@h:5432/postgres?sslmode=disable".into()
            ))
        );
        assert_eq!(split_database("postgres://h"), None);
        assert_eq!(
            super::with_database("postgres://postgres@h/postgres", "t1").as_deref(),
            Some("postgres://postgres@h/t1")
        );
    }
}
