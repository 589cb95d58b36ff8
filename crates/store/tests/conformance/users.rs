use std::time::Duration;

use wait_store::{Role, StoreError, UserChanges};

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

conformance! {
async fn accounts_list_with_their_disabled_flag(db: &TestDb) {
    let bob = db.store.create_user("bob", Role::Builder, "pw").await.expect("bob");
    db.store.create_user("amy", Role::Viewer, "pw").await.expect("amy");
    db.store
        .update_user(bob.id, &UserChanges { disabled: Some(true), ..UserChanges::default() })
        .await
        .expect("disable");
    let listed: Vec<(String, bool)> = db
        .store
        .list_accounts()
        .await
        .expect("list")
        .into_iter()
        .map(|a| (a.user.username, a.disabled))
        .collect();
    assert_eq!(listed, vec![("amy".to_string(), false), ("bob".to_string(), true)]);
    let one = db.store.get_account(bob.id).await.expect("get").expect("bob");
    assert_eq!((one.user.id, one.disabled), (bob.id, true));
    assert_eq!(db.store.get_account(4242).await.expect("get"), None);
}

async fn role_change_keeps_the_session_and_applies_at_once(db: &TestDb) {
    let user = db.store.create_user("gina", Role::Viewer, "pw").await.expect("user");
    let session = db.store.create_session(user.id, DAY).await.expect("session");
    let changed = db
        .store
        .update_user(user.id, &UserChanges { role: Some(Role::Admin), ..UserChanges::default() })
        .await
        .expect("promote");
    assert_eq!(changed.user.role, Role::Admin);
    let seen = db.store.session_user(&session).await.expect("lookup").expect("session kept");
    assert_eq!(seen.role, Role::Admin);
}

async fn new_password_replaces_the_old_one_and_ends_sessions(db: &TestDb) {
    let user = db.store.create_user("hank", Role::Builder, "old password").await.expect("user");
    let session = db.store.create_session(user.id, DAY).await.expect("session");
    db.store
        .update_user(
            user.id,
            &UserChanges { password: Some("new password".to_string()), ..UserChanges::default() },
        )
        .await
        .expect("new password");
    assert_eq!(db.store.verify_login("hank", "old password").await.expect("login"), None);
    assert!(db.store.verify_login("hank", "new password").await.expect("login").is_some());
    assert_eq!(db.store.session_user(&session).await.expect("lookup"), None);
    let hash = db.scalar_text("SELECT password_hash FROM users WHERE username = 'hank'", None).await;
    assert!(hash.starts_with("$argon2id$"), "{hash}");

    let err = db
        .store
        .update_user(user.id, &UserChanges { password: Some(String::new()), ..UserChanges::default() })
        .await
        .expect_err("empty password");
    assert!(matches!(err, StoreError::Invalid { field: "password", .. }), "{err:?}");
}

async fn disabled_user_cannot_log_in_or_use_sessions_or_tokens_until_enabled(db: &TestDb) {
    let user = db.store.create_user("ivy", Role::Builder, "pw").await.expect("user");
    let session = db.store.create_session(user.id, DAY).await.expect("session");
    let (_, token) = db.store.create_api_token(user.id, "ci").await.expect("token");
    let disable = UserChanges { disabled: Some(true), ..UserChanges::default() };
    let account = db.store.update_user(user.id, &disable).await.expect("disable");
    assert!(account.disabled);

    assert_eq!(db.store.verify_login("ivy", "pw").await.expect("login"), None);
    assert_eq!(db.store.session_user(&session).await.expect("lookup"), None);
    assert_eq!(db.store.token_user(&token).await.expect("lookup"), None);
    // disabling ends sessions for good; enabling does not bring them back
    assert_eq!(
        db.scalar_i64("SELECT COUNT(*) FROM sessions", None).await,
        0,
        "sessions are deleted"
    );

    let enable = UserChanges { disabled: Some(false), ..UserChanges::default() };
    assert!(!db.store.update_user(user.id, &enable).await.expect("enable").disabled);
    assert!(db.store.verify_login("ivy", "pw").await.expect("login").is_some());
    assert_eq!(db.store.token_user(&token).await.expect("lookup"), Some(user));
    assert_eq!(db.store.session_user(&session).await.expect("lookup"), None);
}

async fn update_and_delete_of_an_unknown_user_are_not_found(db: &TestDb) {
    let err = db
        .store
        .update_user(4242, &UserChanges { role: Some(Role::Admin), ..UserChanges::default() })
        .await
        .expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
    let err = db.store.delete_user(4242).await.expect_err("unknown");
    assert!(matches!(err, StoreError::NotFound { .. }), "{err:?}");
}

async fn deleting_a_user_removes_its_sessions_and_tokens(db: &TestDb) {
    let keep = db.store.create_user("kim", Role::Viewer, "pw").await.expect("kim");
    let gone = db.store.create_user("lou", Role::Builder, "pw").await.expect("lou");
    let session = db.store.create_session(gone.id, DAY).await.expect("session");
    let (_, token) = db.store.create_api_token(gone.id, "ci").await.expect("token");
    db.store.create_api_token(keep.id, "kept").await.expect("token");

    db.store.delete_user(gone.id).await.expect("delete");
    assert_eq!(db.store.get_user("lou").await.expect("get"), None);
    assert_eq!(db.store.session_user(&session).await.expect("lookup"), None);
    assert_eq!(db.store.token_user(&token).await.expect("lookup"), None);
    assert_eq!(db.scalar_i64("SELECT COUNT(*) FROM api_tokens", None).await, 1);
    assert_eq!(db.store.list_accounts().await.expect("list").len(), 1);
}
}

#[test]
fn user_changes_never_print_the_password() {
    let changes = UserChanges {
        password: Some("hunter2-secret".to_string()),
        ..UserChanges::default()
    };
    let printed = format!("{changes:?}");
    assert!(!printed.contains("hunter2-secret"), "{printed}");
    assert!(printed.contains("[redacted]"), "{printed}");
}
