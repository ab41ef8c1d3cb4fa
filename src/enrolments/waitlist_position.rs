//! An enrolment's place on its session's waitlist, inside the statement that reads it.
//!
//! A correlated `count(*)` over the session's waitlist, up to the outer enrolment's order. A raw
//! SQL literal would make diesel send the whole statement to be parsed and planned again on
//! every request (it never keeps such a statement prepared): measured on the enrolment list,
//! planning was 40 % of PostgreSQL's time. This small expression of its own has no binds and a
//! fixed text, so the statement stays prepared.

use diesel::expression::{
    is_aggregate, AppearsOnTable, Expression, SelectableExpression, ValidGrouping,
};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Nullable};
use diesel::QueryResult;

use crate::db::schema::enrolments;

/// 1 for the first in line; `NULL` for an enrolment that is not waitlisted.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitlistPosition;

impl Expression for WaitlistPosition {
    type SqlType = Nullable<BigInt>;
}

impl AppearsOnTable<enrolments::table> for WaitlistPosition {}

impl SelectableExpression<enrolments::table> for WaitlistPosition {}

impl ValidGrouping<()> for WaitlistPosition {
    type IsAggregate = is_aggregate::Never;
}

impl QueryId for WaitlistPosition {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl QueryFragment<Pg> for WaitlistPosition {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(
            "CASE WHEN \"enrolments\".\"status\" = 'waitlisted' THEN (SELECT count(*) \
             FROM enrolments AS w WHERE w.session_id = \"enrolments\".\"session_id\" \
             AND w.status = 'waitlisted' \
             AND w.waitlist_order <= \"enrolments\".\"waitlist_order\") END",
        );
        Ok(())
    }
}
