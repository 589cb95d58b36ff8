use std::time::Duration;

use wait_store::{Role, StoreError};

const DAY: Duration = Duration::from_secs(86_400);

use crate::support::TestDb;

conformance! {
async fn duplicate_username_is_a_conflict(db: &TestDb) {
    db.store
        .create_user("alice", Role::Admin, "pw-one")
        .await
        .expect("first");
    let err = db
        .store
        .create_user("alice", Role::Viewer, "pw-two")
        .await
        .expect_err("duplicate");
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn login_succeeds_only_with_the_right_password(db: &TestDb) {
    let created = db
        .store
        .create_user("bob", Role::Builder, "correct horse")
        .await
        .expect("user");
    assert_eq!(created.role, Role::Builder);

    let ok = db
        .store
        .verify_login("bob", "correct horse")
        .await
        .expect("login");
    assert_eq!(ok, Some(created.clone()));
    assert_eq!(
        db.store.verify_login("bob", "wrong").await.expect("login"),
        None
    );
    assert_eq!(
        db.store
            .verify_login("nobody", "correct horse")
            .await
            .expect("login"),
        None
    );
    assert_eq!(db.store.get_user("bob").await.expect("get"), Some(created));
    assert_eq!(db.store.get_user("nobody").await.expect("get"), None);
}

async fn password_is_stored_as_argon2id_phc_string(db: &TestDb) {
    db.store
        .create_user("carol", Role::Viewer, "s3cret")
        .await
        .expect("user");
    let hash = db
        .scalar_text("SELECT password_hash FROM users WHERE username = 'carol'", None)
        .await;
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("s3cret"));
}

async fn invalid_usernames_and_empty_passwords_are_refused(db: &TestDb) {
    for bad in ["", "has space", "semi;colon", &"x".repeat(65)] {
        let err = db
            .store
            .create_user(bad, Role::Viewer, "pw")
            .await
            .expect_err("refused");
        assert!(
            matches!(
                err,
                StoreError::Invalid {
                    field: "username",
                    ..
                }
            ),
            "{bad:?}"
        );
    }
    let err = db
        .store
        .create_user("dave", Role::Viewer, "")
        .await
        .expect_err("refused");
    assert!(matches!(
        err,
        StoreError::Invalid {
            field: "password",
            ..
        }
    ));
}

async fn session_token_identifies_user_until_deleted(db: &TestDb) {
    let user = db
        .store
        .create_user("erin", Role::Admin, "pw")
        .await
        .expect("user");
    let token = db
        .store
        .create_session(user.id, DAY)
        .await
        .expect("session");
    assert_eq!(token.len(), 64);
    assert_eq!(
        db.store.session_user(&token).await.expect("lookup"),
        Some(user)
    );
    assert_eq!(
        db.store.session_user("not-a-token").await.expect("lookup"),
        None
    );

    // only a hash of the token is stored
    let stored = db.scalar_text("SELECT token_hash FROM sessions", None).await;
    assert_ne!(stored, token);
    assert_eq!(stored.len(), 64);

    db.store.delete_session(&token).await.expect("logout");
    assert_eq!(db.store.session_user(&token).await.expect("lookup"), None);
}

async fn expired_sessions_are_not_valid(db: &TestDb) {
    let user = db
        .store
        .create_user("frank", Role::Viewer, "pw")
        .await
        .expect("user");
    let token = db
        .store
        .create_session(user.id, Duration::ZERO)
        .await
        .expect("session");
    assert_eq!(db.store.session_user(&token).await.expect("lookup"), None);
    assert_eq!(db.store.purge_expired_sessions().await.expect("purge"), 1);
}

async fn session_for_unknown_user_is_not_found(db: &TestDb) {
    let err = db
        .store
        .create_session(4242, DAY)
        .await
        .expect_err("refused");
    assert!(matches!(err, StoreError::NotFound { .. }));
}
}
