//! Motherboards, customers, API tokens and worker records.

use std::time::Duration;

use wait_store::{Role, Stages, StoreError};

use crate::support::TestDb;

conformance! {
async fn motherboards_are_unique_by_model_and_listed_by_model(db: &TestDb) {
    let b = db
        .store
        .add_motherboard("X13SAW", Some("https://example.invalid/x13saw"))
        .await
        .expect("add");
    assert_eq!(b.model, "X13SAW");
    db.store.add_motherboard("A2SDi", None).await.expect("add");
    assert!(matches!(
        db.store.add_motherboard("X13SAW", None).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        db.store.add_motherboard(" ", None).await,
        Err(StoreError::Invalid { field: "model", .. })
    ));
    let models: Vec<_> = db
        .store
        .list_motherboards()
        .await
        .expect("list")
        .into_iter()
        .map(|m| (m.model, m.scrape_url))
        .collect();
    assert_eq!(
        models,
        vec![
            ("A2SDi".to_string(), None),
            ("X13SAW".to_string(), Some("https://example.invalid/x13saw".to_string())),
        ]
    );
}

async fn api_token_secret_is_returned_once_and_stored_hashed(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Builder, "pw").await.expect("user");
    let (id, secret) = db.store.create_api_token(user.id, "ci pipeline").await.expect("token");
    assert!(secret.starts_with("wait_"));
    assert_eq!(db.store.token_user(&secret).await.expect("lookup"), Some(user.clone()));
    assert_eq!(db.store.token_user("wait_nope").await.expect("lookup"), None);

    let stored = db.scalar_text("SELECT token_sha256 FROM api_tokens", None).await;
    assert_ne!(stored, secret);
    assert_eq!(stored.len(), 64);

    let listed = db.store.list_api_tokens(user.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].name.as_str()), (id, "ci pipeline"));
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    db.store.delete_api_token(id).await.expect("revoke");
    assert_eq!(db.store.token_user(&secret).await.expect("lookup"), None);
    assert!(matches!(
        db.store.delete_api_token(id).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        db.store.create_api_token(4242, "orphan").await,
        Err(StoreError::NotFound { .. })
    ));
}

async fn customers_are_upserted_by_name(db: &TestDb) {
    let defaults = serde_json::json!({"compression": "lzms"});
    let c = db
        .store
        .upsert_customer("AABBCCE", Some("{date}_{board}"), &defaults)
        .await
        .expect("upsert");
    assert_eq!(c.defaults, defaults);
    let c2 = db
        .store
        .upsert_customer("AABBCCE", None, &serde_json::json!({}))
        .await
        .expect("upsert again");
    assert_eq!(c2.id, c.id);
    assert_eq!(c2.naming_template, None);
    assert_eq!(db.store.list_customers().await.expect("list").len(), 1);
    assert_eq!(
        db.store.get_customer("AABBCCE").await.expect("get").map(|c| c.id),
        Some(c.id)
    );
    assert!(matches!(
        db.store.upsert_customer("X", None, &serde_json::json!([1])).await,
        Err(StoreError::Invalid { field: "defaults", .. })
    ));
}

async fn workers_register_with_host_pid_and_stages(db: &TestDb) {
    db.store
        .register_worker("build-1", Some("host-a"), Some(4242), Stages::Build)
        .await
        .expect("register");
    db.store.worker_heartbeat("build-1").await.expect("heartbeat");
    db.store.worker_heartbeat("embedded").await.expect("heartbeat");
    let workers = db.store.list_workers(Duration::from_secs(60)).await.expect("list");
    assert_eq!(workers.len(), 2);
    assert_eq!(workers[0].name, "build-1");
    assert_eq!(workers[0].host.as_deref(), Some("host-a"));
    assert_eq!(workers[0].pid, Some(4242));
    assert_eq!(workers[0].stages, Stages::Build);
    assert_eq!(workers[1].stages, Stages::All);
}
}
