//! The `chefs_de_projet` and `chef_programmes` tables.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::chefs_de_projet::domain::ChefDraft;
use crate::chefs_de_projet::views::{ChefDeProjet, ChefDeProjetInput, ChefStatus};
use crate::db::schema::chefs_de_projet;

#[derive(Debug, Clone, Queryable, Selectable, serde::Deserialize)]
#[diesel(table_name = chefs_de_projet, check_for_backend(diesel::pg::Pg))]
pub struct ChefRow {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub collectivite_id: Uuid,
    pub status: String,
    pub erased_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The writable columns (`None` clears `phone` on update).
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = chefs_de_projet, treat_none_as_null = true)]
pub struct ChefValues<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub collectivite_id: Uuid,
    pub status: &'a str,
}

impl<'a> From<&'a ChefDraft> for ChefValues<'a> {
    fn from(draft: &'a ChefDraft) -> Self {
        Self {
            first_name: &draft.first_name,
            last_name: &draft.last_name,
            email: draft.email.as_str(),
            phone: draft.phone.as_deref(),
            collectivite_id: draft.collectivite_id,
            status: draft.status.as_str(),
        }
    }
}

impl ChefRow {
    pub fn into_view(self, programmes: Vec<String>) -> ChefDeProjet {
        ChefDeProjet {
            id: self.id,
            first_name: self.first_name,
            last_name: self.last_name,
            email: self.email,
            phone: self.phone,
            collectivite_id: self.collectivite_id,
            programmes,
            status: ChefStatus::from_db(&self.status),
            erased_at: self.erased_at,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

impl From<&ChefDeProjet> for ChefDeProjetInput {
    fn from(chef: &ChefDeProjet) -> Self {
        Self {
            first_name: chef.first_name.clone(),
            last_name: chef.last_name.clone(),
            email: chef.email.clone(),
            phone: chef.phone.clone(),
            collectivite_id: chef.collectivite_id,
            programmes: chef.programmes.clone(),
            status: Some(chef.status),
        }
    }
}
