//! Job history queries beyond `list_jobs`: a window on `created_at` and a text search
//! over the fields people remember a job by (its id, board, customer, base image and
//! who created it).

use time::OffsetDateTime;

use crate::backend::on_pool;
use crate::rows::{JobRow, jobs_from_rows};
use crate::{DEFAULT_LIST_LIMIT, Job, JobFilter, JobStatus, MAX_LIST_LIMIT, Result, Store};

/// What `search_jobs` looks for. Every part that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSearch {
    /// Exact-match filters, page size and offset, with the meaning `list_jobs` gives them.
    pub filter: JobFilter,
    /// Created at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Created at or before this instant.
    pub until: Option<OffsetDateTime>,
    /// A job id prefix, or part of the board, customer, base image or creator; letters
    /// match regardless of case (on SQLite only ASCII letters fold). Blank = no text.
    pub text: Option<String>,
}

/// The search with every value in the form it is bound in, so the two statements of a
/// search (count and page) bind the same borrowed values.
struct Bound {
    statuses: Vec<&'static str>,
    equal: Vec<(&'static str, String)>,
    since_ms: Option<i64>,
    until_ms: Option<i64>,
    /// (prefix pattern for the job id, substring pattern for the other columns)
    text: Option<(String, String)>,
}

/// The stored values that read as `status`: the legacy "Verified" reads as Completed.
fn stored_values(status: JobStatus) -> Vec<&'static str> {
    JobStatus::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(["Verified"])
        .filter(|v| JobStatus::parse(v) == Some(status))
        .collect()
}

/// `%`, `_` and the escape character itself lose their LIKE meaning.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Milliseconds since the epoch, rounded down: the last stored instant not after `t`.
fn ms_floor(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos().div_euclid(1_000_000);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// Rounded up: the first stored instant not before `t`.
fn ms_ceil(t: OffsetDateTime) -> i64 {
    let nanos = t.unix_timestamp_nanos();
    let ms = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

impl Bound {
    fn new(search: &JobSearch) -> Self {
        let f = &search.filter;
        let equal = [
            ("customer_name", &f.customer_name),
            ("motherboard_model", &f.motherboard_model),
            ("created_by", &f.created_by),
        ]
        .into_iter()
        .filter_map(|(column, value)| value.clone().map(|v| (column, v)))
        .collect();
        let text = search
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                let escaped = escape_like(&t.to_lowercase());
                (format!("{escaped}%"), format!("%{escaped}%"))
            });
        Bound {
            statuses: f.status.map(stored_values).unwrap_or_default(),
            equal,
            since_ms: search.since.map(ms_ceil),
            until_ms: search.until.map(ms_floor),
            text,
        }
    }

    fn push<'a, DB>(&'a self, qb: &mut sqlx::QueryBuilder<'a, DB>)
    where
        DB: sqlx::Database,
        &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
        i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    {
        qb.push(" WHERE 1 = 1");
        if !self.statuses.is_empty() {
            qb.push(" AND status IN (");
            let mut values = qb.separated(", ");
            for v in &self.statuses {
                values.push_bind(*v);
            }
            qb.push(")");
        }
        for (column, value) in &self.equal {
            qb.push(format_args!(" AND {column} = "))
                .push_bind(value.as_str());
        }
        if let Some(since) = self.since_ms {
            qb.push(" AND created_at >= ").push_bind(since);
        }
        if let Some(until) = self.until_ms {
            qb.push(" AND created_at <= ").push_bind(until);
        }
        if let Some((prefix, inner)) = &self.text {
            qb.push(" AND (LOWER(job_id) LIKE ")
                .push_bind(prefix.as_str())
                .push(" ESCAPE '\\'");
            for column in ["motherboard_model", "customer_name", "base_image"] {
                qb.push(format_args!(" OR LOWER({column}) LIKE "))
                    .push_bind(inner.as_str())
                    .push(" ESCAPE '\\'");
            }
            qb.push(" OR LOWER(COALESCE(created_by, '')) LIKE ")
                .push_bind(inner.as_str())
                .push(" ESCAPE '\\')");
        }
    }
}

impl Store {
    /// Jobs matching `search`, newest first, with the number of all matching jobs.
    /// Page size and offset work as in `list_jobs`.
    pub async fn search_jobs(&self, search: &JobSearch) -> Result<(Vec<Job>, i64)> {
        let limit = search
            .filter
            .limit
            .unwrap_or(DEFAULT_LIST_LIMIT)
            .clamp(1, MAX_LIST_LIMIT);
        let offset = search.filter.offset.unwrap_or(0).max(0);
        let bound = Bound::new(search);
        let (rows, total): (Vec<JobRow>, i64) = on_pool!(self.pool(), |pool| {
            let mut count = sqlx::QueryBuilder::<b::Db>::new("SELECT COUNT(*) FROM build_jobs");
            bound.push(&mut count);
            let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;

            let mut select = sqlx::QueryBuilder::<b::Db>::new("SELECT * FROM build_jobs");
            bound.push(&mut select);
            select
                .push(" ORDER BY seq DESC LIMIT ")
                .push_bind(limit)
                .push(" OFFSET ")
                .push_bind(offset);
            let rows: Vec<JobRow> = select.build_query_as().fetch_all(pool).await?;
            (rows, total)
        });
        Ok((jobs_from_rows(rows)?, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(escape_like("a%b_c\\d"), "a\\%b\\_c\\\\d");
        assert_eq!(escape_like("plain"), "plain");
    }

    #[test]
    fn completed_also_matches_the_legacy_verified() {
        assert_eq!(
            stored_values(JobStatus::Completed),
            vec!["Completed", "Verified"]
        );
        assert_eq!(stored_values(JobStatus::Queued), vec!["Queued"]);
    }

    #[test]
    fn window_bounds_round_towards_the_inside() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_500_000_001).expect("time");
        assert_eq!(ms_floor(t), 1500);
        assert_eq!(ms_ceil(t), 1501);
        let exact = OffsetDateTime::from_unix_timestamp_nanos(1_500_000_000).expect("time");
        assert_eq!((ms_floor(exact), ms_ceil(exact)), (1500, 1500));
        let before_epoch = OffsetDateTime::from_unix_timestamp_nanos(-1).expect("time");
        assert_eq!((ms_floor(before_epoch), ms_ceil(before_epoch)), (-1, 0));
    }
}
