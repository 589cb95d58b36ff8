//! Reference data kept in the database: motherboards (with the page their drivers are
//! scraped from) and customers (output naming rule and request defaults).

use serde::Serialize;
use time::OffsetDateTime;

use crate::backend::{ErrorClass, classify_error, on_pool};
use crate::clock::{from_ms, now_ms};
use crate::rows::to_json;
use crate::{Result, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Motherboard {
    pub id: i64,
    pub model: String,
    pub scrape_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, sqlx::FromRow)]
struct MotherboardRow {
    id: i64,
    model: String,
    scrape_url: Option<String>,
    created_at: i64,
}

impl TryFrom<MotherboardRow> for Motherboard {
    type Error = StoreError;

    fn try_from(r: MotherboardRow) -> Result<Motherboard> {
        Ok(Motherboard {
            id: r.id,
            model: r.model,
            scrape_url: r.scrape_url,
            created_at: from_ms("created_at", r.created_at)?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    /// Output folder naming rule; None = the default rule.
    pub naming_template: Option<String>,
    /// Default request values (a JSON object).
    pub defaults: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Debug, sqlx::FromRow)]
struct CustomerRow {
    id: i64,
    name: String,
    naming_template: Option<String>,
    defaults: String,
    created_at: i64,
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(r: CustomerRow) -> Result<Customer> {
        Ok(Customer {
            id: r.id,
            name: r.name,
            naming_template: r.naming_template,
            defaults: serde_json::from_str(&r.defaults).map_err(|e| StoreError::Invalid {
                field: "defaults",
                message: format!("stored customer defaults are not JSON: {e}"),
            })?,
            created_at: from_ms("created_at", r.created_at)?,
        })
    }
}

fn non_empty(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(StoreError::Invalid {
            field,
            message: "must not be empty".to_string(),
        });
    }
    Ok(())
}

impl Store {
    /// Record a motherboard model; an existing model → Conflict.
    pub async fn add_motherboard(
        &self,
        model: &str,
        scrape_url: Option<&str>,
    ) -> Result<Motherboard> {
        non_empty("model", model)?;
        let inserted: std::result::Result<MotherboardRow, sqlx::Error> =
            on_pool!(self.pool(), |pool| {
                sqlx::query_as(
                    "INSERT INTO motherboards (model, scrape_url, created_at)
                     VALUES ($1, $2, $3) RETURNING id, model, scrape_url, created_at",
                )
                .bind(model)
                .bind(scrape_url)
                .bind(now_ms())
                .fetch_one(pool)
                .await
            });
        let row = inserted.map_err(|e| match classify_error(&e) {
            ErrorClass::UniqueViolation => {
                StoreError::Conflict(format!("motherboard {model:?} already exists"))
            }
            _ => StoreError::Database(e),
        })?;
        Motherboard::try_from(row)
    }

    /// All motherboards, by model.
    pub async fn list_motherboards(&self) -> Result<Vec<Motherboard>> {
        let rows: Vec<MotherboardRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, model, scrape_url, created_at FROM motherboards ORDER BY model",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Motherboard::try_from).collect()
    }

    /// Create or replace a customer's naming template and defaults.
    pub async fn upsert_customer(
        &self,
        name: &str,
        naming_template: Option<&str>,
        defaults: &serde_json::Value,
    ) -> Result<Customer> {
        non_empty("name", name)?;
        if !defaults.is_object() {
            return Err(StoreError::Invalid {
                field: "defaults",
                message: "must be a JSON object".to_string(),
            });
        }
        let defaults = to_json("defaults", defaults)?;
        let row: CustomerRow = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "INSERT INTO customers (name, naming_template, defaults, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE
                    SET naming_template = excluded.naming_template,
                        defaults = excluded.defaults
                 RETURNING id, name, naming_template, defaults, created_at",
            )
            .bind(name)
            .bind(naming_template)
            .bind(&defaults)
            .bind(now_ms())
            .fetch_one(pool)
            .await?
        });
        Customer::try_from(row)
    }

    pub async fn get_customer(&self, name: &str) -> Result<Option<Customer>> {
        let row: Option<CustomerRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, name, naming_template, defaults, created_at
                   FROM customers WHERE name = $1",
            )
            .bind(name)
            .fetch_optional(pool)
            .await?
        });
        row.map(Customer::try_from).transpose()
    }

    /// All customers, by name.
    pub async fn list_customers(&self) -> Result<Vec<Customer>> {
        let rows: Vec<CustomerRow> = on_pool!(self.pool(), |pool| {
            sqlx::query_as(
                "SELECT id, name, naming_template, defaults, created_at
                   FROM customers ORDER BY name",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(Customer::try_from).collect()
    }
}
