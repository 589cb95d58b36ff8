//! One suite, two databases: every test here runs once on SQLite and once on
//! PostgreSQL (`WAIT_TEST_DATABASE_URL`; the PostgreSQL half prints a note and passes
//! when the variable is unset). Test names end in `::sqlite` or `::postgres`.

#[path = "../support/mod.rs"]
mod support;

/// Define `async fn name(db: &TestDb) { … }` tests; each becomes a module `name` with a
/// `sqlite` and a `postgres` test running the same body.
macro_rules! conformance {
    ($(async fn $name:ident($db:ident: &TestDb) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($db: &TestDb) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let db = crate::support::sqlite().await;
                    run(&db).await;
                    db.finish().await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let Some(db) = crate::support::postgres(module_path!()).await else {
                        return;
                    };
                    run(&db).await;
                    db.finish().await;
                }
            }
        )*
    };
}

mod catalog;
mod events;
mod load;
mod logs;
mod queue;
mod queue_read;
mod retry;
mod schema;
mod search;
mod stages;
mod stats;
mod tokens;
mod users;
mod webhooks;
