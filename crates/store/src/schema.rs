//! Versioned migrations, one directory per backend with the same version numbers.

use sqlx::migrate::{MigrateError, Migrator};

use crate::{Result, StoreError};

/// Bring the schema up to date. A database that already carries a migration newer than
/// any this binary knows was upgraded by a newer WAIT: running against it could corrupt
/// data the newer version relies on, so it is refused with `SchemaTooNew`.
pub(crate) async fn migrate<DB>(migrator: &Migrator, pool: &sqlx::Pool<DB>) -> Result<()>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
{
    let supported = latest_version(migrator);
    match migrator.run(pool).await {
        Ok(()) => Ok(()),
        Err(MigrateError::VersionMissing(found)) if found > supported => {
            Err(StoreError::SchemaTooNew { found, supported })
        }
        Err(e) => Err(StoreError::Migrate(e)),
    }
}

/// The highest migration version compiled into this binary.
pub(crate) fn latest_version(migrator: &Migrator) -> i64 {
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}
