//! API tokens: expiry, revocation, throttled last-use notes, and names.

use std::time::Duration;

use wait_store::{MAX_TOKEN_NAME_LEN, Role, StoreError, TOKEN_PREFIX};

use crate::support::TestDb;

const DAY: Duration = Duration::from_secs(86_400);

conformance! {
async fn issued_token_is_listed_without_its_secret_or_hash(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Builder, "pw").await.expect("user");
    let (token, secret) = db
        .store
        .issue_api_token(user.id, "nightly", Some(DAY))
        .await
        .expect("token");
    assert!(secret.starts_with(TOKEN_PREFIX));
    assert_eq!((token.user_id, token.name.as_str()), (user.id, "nightly"));
    let expires = token.expires_at.expect("expiry set");
    let lifetime = expires - token.created_at;
    assert_eq!(lifetime.whole_seconds(), 86_400);
    assert_eq!(token.revoked_at, None);

    let hash = db.scalar_text("SELECT token_sha256 FROM api_tokens", None).await;
    let listed = db.store.list_api_tokens(user.id).await.expect("list");
    assert_eq!(listed, vec![token.clone()]);
    let shown = serde_json::to_string(&listed).expect("json");
    assert!(!shown.contains(&secret) && !shown.contains(&hash), "{shown}");
    assert_eq!(db.store.get_api_token(token.id).await.expect("get"), Some(token));
    assert_eq!(db.store.get_api_token(4242).await.expect("get"), None);
}

async fn expired_token_does_not_authenticate(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Viewer, "pw").await.expect("user");
    let (_, secret) = db
        .store
        .issue_api_token(user.id, "short", Some(Duration::ZERO))
        .await
        .expect("token");
    assert_eq!(db.store.token_user(&secret).await.expect("lookup"), None);
    let (_, lasting) = db
        .store
        .issue_api_token(user.id, "long", Some(DAY))
        .await
        .expect("token");
    assert_eq!(db.store.token_user(&lasting).await.expect("lookup"), Some(user));
}

async fn revoked_token_stays_listed_but_does_not_authenticate(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Builder, "pw").await.expect("user");
    let (id, secret) = db.store.create_api_token(user.id, "bot").await.expect("token");
    assert_eq!(db.store.token_user(&secret).await.expect("lookup"), Some(user.clone()));

    let revoked = db.store.revoke_api_token(id).await.expect("revoke");
    let first = revoked.revoked_at.expect("revoked_at set");
    assert_eq!(db.store.token_user(&secret).await.expect("lookup"), None);
    let again = db.store.revoke_api_token(id).await.expect("revoke again");
    assert_eq!(again.revoked_at, Some(first), "the first revocation time is kept");
    let listed = db.store.list_api_tokens(user.id).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(first));

    let err = db.store.revoke_api_token(4242).await.expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn last_use_is_written_at_most_once_a_minute(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Viewer, "pw").await.expect("user");
    let (id, secret) = db.store.create_api_token(user.id, "bot").await.expect("token");
    let last_used = "SELECT last_used_at FROM api_tokens";

    db.store.token_user(&secret).await.expect("first use");
    let first = db.scalar_i64(last_used, None).await;
    assert!(first > 0);

    // a use noted "in the future" counts as recent: the next use must not rewrite it
    let future = first + 3_600_000;
    db.exec(&format!("UPDATE api_tokens SET last_used_at = {future}"), None)
        .await
        .expect("pretend a recent use");
    db.store.token_user(&secret).await.expect("second use");
    assert_eq!(db.scalar_i64(last_used, None).await, future);

    // an old note is replaced by the current time
    db.exec("UPDATE api_tokens SET last_used_at = 1000", None)
        .await
        .expect("pretend an old use");
    db.store.token_user(&secret).await.expect("third use");
    assert!(db.scalar_i64(last_used, None).await >= first);
    let listed = db.store.get_api_token(id).await.expect("get").expect("token");
    assert!(listed.last_used_at.is_some());
}

async fn token_names_are_checked(db: &TestDb) {
    let user = db.store.create_user("ci", Role::Viewer, "pw").await.expect("user");
    let long = "n".repeat(MAX_TOKEN_NAME_LEN + 1);
    for bad in ["", "   ", "tab\there", long.as_str()] {
        let err = db
            .store
            .issue_api_token(user.id, bad, None)
            .await
            .expect_err("refused");
        assert!(matches!(err, StoreError::Invalid { field: "name", .. }), "{bad:?}: {err:?}");
    }
    let fits = "n".repeat(MAX_TOKEN_NAME_LEN);
    db.store.issue_api_token(user.id, &fits, None).await.expect("longest name fits");
    let err = db
        .store
        .issue_api_token(4242, "orphan", None)
        .await
        .expect_err("unknown user");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}
}
