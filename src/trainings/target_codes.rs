//! A training's target programmes inside the statement that reads the training.
//!
//! `ARRAY(SELECT code …)` correlated on the outer `trainings.id`: one round trip for a training
//! and its targets instead of two. diesel's DSL cannot box a correlated subquery, and a raw SQL
//! literal would never be kept prepared, so this is a small expression of its own. Its binds
//! carry the caller's visibility, so the statement text is the same for every caller and stays
//! prepared.

use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Nullable, Text, Uuid as SqlUuid};
use diesel::QueryResult;
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::schema::trainings;

/// The codes of the live programmes the outer training targets, among those the caller sees,
/// sorted.
#[derive(Debug, Clone)]
pub struct TargetCodes {
    /// The programmes a restricted caller sees; `None` for an unrestricted one.
    visible: Option<Vec<Uuid>>,
}

impl TargetCodes {
    pub fn seen_by(visibility: &Visibility) -> Self {
        Self {
            visible: visibility.restricted_to().map(<[Uuid]>::to_vec),
        }
    }
}

impl Expression for TargetCodes {
    type SqlType = Array<Text>;
}

impl AppearsOnTable<trainings::table> for TargetCodes {}

impl SelectableExpression<trainings::table> for TargetCodes {}

impl ValidGrouping<()> for TargetCodes {
    type IsAggregate = is_aggregate::Never;
}

// The statement's text is the same whatever the visibility (it travels in the binds).
impl QueryId for TargetCodes {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for TargetCodes {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "ARRAY(SELECT p.code FROM training_programmes tp \
             JOIN programmes p ON p.id = tp.programme_id \
             WHERE tp.training_id = \"trainings\".\"id\" AND p.deleted_at IS NULL AND (",
        );
        out.push_bind_param::<Nullable<Array<SqlUuid>>, _>(&self.visible)?;
        out.push_sql(" IS NULL OR p.id = ANY(");
        out.push_bind_param::<Nullable<Array<SqlUuid>>, _>(&self.visible)?;
        out.push_sql(")) ORDER BY p.code)");
        Ok(())
    }
}
