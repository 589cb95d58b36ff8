//! Reading the original WAIT database: a SQLite file opened read-only, whose tables and
//! columns are discovered rather than assumed, and whose values are read as bytes so a
//! wrong column type or invalid UTF-8 becomes a note on the row, never a failure.

use std::path::Path;

use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::{Result, StoreError};

/// One logical field and the column names accepted for it, preferred first: the name
/// the original documentation uses, then common variants.
pub(crate) struct Field {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

/// One entry of a table's field list: our name, then the old column names it may have.
pub(crate) const fn field(name: &'static str, columns: &'static [&'static str]) -> Field {
    Field { name, columns }
}

/// A text value read from the old database.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Text {
    pub value: String,
    /// The bytes were not UTF-8; invalid sequences were replaced with U+FFFD.
    pub lossy: bool,
    /// The raw bytes, for keys (ids) that must stay distinct even when not UTF-8.
    pub raw: Vec<u8>,
}

impl Text {
    /// An id usable as a map key and in `seed_import.old_id`.
    pub fn key(&self) -> String {
        if self.lossy {
            format!("hex:{}", hex::encode(&self.raw))
        } else {
            self.value.clone()
        }
    }
}

/// One row: a value (or None for NULL or a missing column) per requested field.
pub(crate) type SeedRow = Vec<Option<Text>>;

/// The rows of one table and which requested fields had no column.
pub(crate) struct TableRead {
    pub rows: Vec<SeedRow>,
    pub missing: Vec<&'static str>,
}

pub(crate) struct SeedDb {
    pool: SqlitePool,
}

impl SeedDb {
    /// Open read-only; a missing file or one that is not SQLite is a clear error naming it.
    pub async fn open(path: &Path) -> Result<Self> {
        let named = |message: String| StoreError::Invalid {
            field: "seed database",
            message: format!("{}: {message}", path.display()),
        };
        if !path.is_file() {
            return Err(named("no such file".to_string()));
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .create_if_missing(false);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| named(format!("cannot open as SQLite: {e}")))?;
        // Opening is lazy about the header; the first read is what fails on a non-database.
        let probe: std::result::Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master")
                .fetch_one(&pool)
                .await;
        if let Err(e) = probe {
            pool.close().await;
            return Err(named(format!("not a SQLite database ({e})")));
        }
        Ok(SeedDb { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Column names of `table`, or None when there is no such table (or view).
    pub async fn columns(&self, table: &str) -> Result<Option<Vec<String>>> {
        let kind: Option<String> = sqlx::query_scalar(
            "SELECT type FROM sqlite_master WHERE type IN ('table', 'view') AND name = $1",
        )
        .bind(table)
        .fetch_optional(&self.pool)
        .await?;
        if kind.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(&format!("PRAGMA table_info({})", quote(table)))
            .fetch_all(&self.pool)
            .await?;
        let mut names = Vec::with_capacity(rows.len());
        for row in rows {
            names.push(row.try_get::<String, _>("name")?);
        }
        Ok(Some(names))
    }

    /// Read `fields` from every row of `table` (which must exist), in `order_by` field
    /// order when that field has a column, else in storage order.
    pub async fn read(
        &self,
        table: &str,
        columns: &[String],
        fields: &[Field],
        order_by: Option<&str>,
    ) -> Result<TableRead> {
        let mut select = Vec::with_capacity(fields.len());
        let mut missing = Vec::new();
        let mut order = None;
        for (i, field) in fields.iter().enumerate() {
            match pick(columns, field.columns) {
                Some(col) => {
                    // CAST AS BLOB: any storage class comes back as bytes (numbers as
                    // their text), so a wrongly typed column cannot fail the read.
                    select.push(format!("CAST({} AS BLOB) AS f{i}", quote(col)));
                    if order_by == Some(field.name) {
                        order = Some(quote(col));
                    }
                }
                None => {
                    select.push(format!("NULL AS f{i}"));
                    missing.push(field.name);
                }
            }
        }
        let sql = format!(
            "SELECT {} FROM {}{}",
            select.join(", "),
            quote(table),
            order.map(|c| format!(" ORDER BY {c}")).unwrap_or_default()
        );
        let raw = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let mut rows = Vec::with_capacity(raw.len());
        for r in raw {
            let mut row = Vec::with_capacity(fields.len());
            for i in 0..fields.len() {
                let bytes: Option<Vec<u8>> = r.try_get(i)?;
                row.push(bytes.map(text));
            }
            rows.push(row);
        }
        Ok(TableRead { rows, missing })
    }
}

/// The first accepted column name present (case-insensitive, as SQLite compares them).
fn pick<'a>(columns: &'a [String], accepted: &[&str]) -> Option<&'a str> {
    accepted.iter().find_map(|want| {
        columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(want))
            .map(String::as_str)
    })
}

fn text(raw: Vec<u8>) -> Text {
    match String::from_utf8(raw) {
        // PostgreSQL text cannot hold NUL: such a value is repaired like invalid UTF-8.
        Ok(value) if value.contains('\0') => Text {
            raw: value.as_bytes().to_vec(),
            value: value.replace('\0', "\u{FFFD}"),
            lossy: true,
        },
        Ok(value) => Text {
            raw: value.as_bytes().to_vec(),
            value,
            lossy: false,
        },
        Err(e) => {
            let raw = e.into_bytes();
            Text {
                value: String::from_utf8_lossy(&raw).replace('\0', "\u{FFFD}"),
                lossy: true,
                raw,
            }
        }
    }
}

/// An SQL identifier, quoted.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
