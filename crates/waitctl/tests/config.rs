//! The config file, environment and flags through the real binary: precedence, refused
//! files, secrets from files, redaction, and the shipped example.

mod support;

use std::path::Path;
use std::process::{Command, Output};

/// `waitctl` with none of the settings' variables inherited.
fn waitctl() -> Command {
    let mut c = support::waitctl();
    for (name, _) in std::env::vars() {
        if name.starts_with("WAIT_") || name == "RUST_LOG" {
            c.env_remove(name);
        }
    }
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("run waitctl");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// The line of `config check` output that prints `key` (in `[section]`).
fn line_of<'a>(out: &'a str, section: &str, key: &str) -> &'a str {
    let mut current = "";
    for line in out.lines() {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = s;
        } else if current == section
            && (line.starts_with(&format!("{key} = ")) || line.starts_with(&format!("# {key} ")))
        {
            return line;
        }
    }
    panic!("no {section}.{key} in:\n{out}");
}

/// A data dir that passes `config check` (repository created by `init`).
fn initialised(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let (code, _, err) = run(waitctl().arg("init").arg("--data-dir").arg(&data));
    assert_eq!(code, 0, "init: {err}");
    data
}

/// (with the file?, environment, flags, expected concurrency line, expected ttl line)
type PrecedenceCase<'a> = (
    bool,
    &'a [(&'a str, &'a str)],
    &'a [&'a str],
    &'a str,
    &'a str,
);

/// (file contents, environment, words the error must contain)
type BadCase = (String, Vec<(&'static str, String)>, Vec<&'static str>);

#[test]
fn precedence_is_default_then_file_then_env_then_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = initialised(tmp.path());
    let file = tmp.path().join("wait.toml");
    std::fs::write(
        &file,
        format!(
            "[paths]\ndata_dir = {:?}\n\n[worker]\nconcurrency = 3\n\n[server]\nsession_ttl_hours = 4\n",
            data.display().to_string()
        ),
    )
    .expect("write config");
    // (file?, env, flags, expected concurrency line, expected ttl line)
    let cases: [PrecedenceCase<'_>; 4] = [
        (
            false,
            &[],
            &[],
            "concurrency = 1  # default",
            "session_ttl_hours = 12  # default",
        ),
        (
            true,
            &[],
            &[],
            "concurrency = 3  # file line 5",
            "session_ttl_hours = 4  # file line 8",
        ),
        (
            true,
            &[("WAIT_CONCURRENCY", "5"), ("WAIT_SESSION_TTL_HOURS", "6")],
            &[],
            "concurrency = 5  # env WAIT_CONCURRENCY",
            "session_ttl_hours = 6  # env WAIT_SESSION_TTL_HOURS",
        ),
        (
            true,
            &[("WAIT_CONCURRENCY", "5")],
            &["--concurrency", "7"],
            "concurrency = 7  # flag --concurrency",
            "session_ttl_hours = 4  # file line 8",
        ),
    ];
    for (with_file, env, flags, concurrency, ttl) in cases {
        let mut c = waitctl();
        c.args(["config", "check"])
            .args(flags)
            .envs(env.iter().copied());
        if with_file {
            c.arg("--config").arg(&file);
        } else {
            c.arg("--data-dir").arg(&data);
        }
        let (code, out, err) = run(&mut c);
        assert_eq!(code, 0, "{env:?} {flags:?}: {err}\n{out}");
        assert_eq!(
            line_of(&out, "worker", "concurrency"),
            concurrency,
            "{env:?} {flags:?}"
        );
        assert_eq!(
            line_of(&out, "server", "session_ttl_hours"),
            ttl,
            "{env:?} {flags:?}"
        );
    }
}

#[test]
fn the_file_reaches_other_subcommands_and_wait_config_names_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("wait.toml");
    std::fs::write(&file, "[paths]\ndata_dir = \"from-file\"\n").expect("write config");
    // Relative paths in the file are taken from the file's folder, not the cwd.
    let (code, out, err) = run(waitctl().arg("init").env("WAIT_CONFIG", &file));
    assert_eq!(code, 0, "{err}");
    assert!(tmp.path().join("from-file/wait.db").is_file(), "{out}");
    assert!(
        tmp.path()
            .join("from-file/WAIT_Repository/8_Output")
            .is_dir()
    );
    // The flag still wins over the file.
    let other = tmp.path().join("flagged");
    let (code, _, err) = run(waitctl()
        .arg("init")
        .arg("--config")
        .arg(&file)
        .arg("--data-dir")
        .arg(&other));
    assert_eq!(code, 0, "{err}");
    assert!(other.join("wait.db").is_file());
}

#[test]
fn malformed_settings_exit_2_naming_the_key_and_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let secret = tmp.path().join("secret");
    std::fs::write(&secret, "s3cret\n").expect("write secret");
    let secret = secret.display().to_string();
    // (file contents, environment, words the error must contain)
    let cases: Vec<BadCase> = vec![
        (
            "[server\nbind = 1\n".into(),
            vec![],
            vec!["TOML parse error", "line 1"],
        ),
        (
            "[server]\ncolour = \"red\"\n".into(),
            vec![],
            vec!["unknown field `colour`", "line 2"],
        ),
        (
            "[worker]\nconcurrency = \"four\"\n".into(),
            vec![],
            vec!["invalid type", "line 2"],
        ),
        (
            "[worker]\nconcurrency = 0\n".into(),
            vec![],
            vec!["line 2", "worker.concurrency", "out of range"],
        ),
        (
            "[server]\nbind = \"nowhere\"\n".into(),
            vec![],
            vec!["line 2", "server.bind", "not an address"],
        ),
        (
            format!("[slack]\nsigning_secret = \"a\"\nsigning_secret_file = {secret:?}\n"),
            vec![],
            vec![
                "slack.signing_secret",
                "slack.signing_secret_file",
                "both set",
            ],
        ),
        (
            "[database]\nurl_file = \"/nonexistent/db-url\"\n".into(),
            vec![],
            vec!["line 2", "database.url_file", "/nonexistent/db-url"],
        ),
        (
            "[log]\nformat = \"xml\"\n".into(),
            vec![],
            vec!["line 2", "xml"],
        ),
        (
            String::new(),
            vec![
                ("WAIT_SLACK_SIGNING_SECRET", "a".into()),
                ("WAIT_SLACK_SIGNING_SECRET_FILE", secret.clone()),
            ],
            vec!["WAIT_SLACK_SIGNING_SECRET and WAIT_SLACK_SIGNING_SECRET_FILE"],
        ),
        (
            String::new(),
            vec![("WAIT_DATABASE_URL_FILE", "/nonexistent/db-url".into())],
            vec!["WAIT_DATABASE_URL_FILE", "/nonexistent/db-url"],
        ),
        (
            String::new(),
            vec![("WAIT_SECURE_COOKIES", "perhaps".into())],
            vec!["WAIT_SECURE_COOKIES"],
        ),
    ];
    for (i, (text, env, words)) in cases.into_iter().enumerate() {
        let file = tmp.path().join(format!("bad{i}.toml"));
        std::fs::write(&file, &text).expect("write config");
        let (code, out, err) = run(waitctl()
            .args(["config", "check", "--config"])
            .arg(&file)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str()))));
        assert_eq!(code, 2, "case {i} {text:?}: {out}{err}");
        for w in words {
            assert!(err.contains(w), "case {i}: {w:?} missing from {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
    let (code, _, err) =
        run(waitctl().args(["config", "check", "--config", "/nonexistent/wait.toml"]));
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/wait.toml"), "{err}");
}

#[test]
fn secrets_never_appear_in_the_output() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = initialised(tmp.path());
    let slack = tmp.path().join("slack");
    std::fs::write(&slack, "slack-secret-from-file\n").expect("write secret");
    let file = tmp.path().join("wait.toml");
    let db = data.join("wait.db");
    std::fs::write(
        &file,
        format!(
            "[paths]\ndata_dir = {:?}\n[database]\nurl = \"sqlite://{}?password=db-secret-in-query\"\n\
             [slack]\nsigning_secret_file = {:?}\n",
            data.display().to_string(),
            db.display(),
            slack.display().to_string()
        ),
    )
    .expect("write config");
    let (code, out, err) = run(waitctl().args(["config", "check", "--config"]).arg(&file));
    let all = format!("{out}{err}");
    assert!(!all.contains("slack-secret-from-file"), "{all}");
    assert!(!all.contains("db-secret-in-query"), "{all}");
    assert_eq!(
        line_of(&out, "slack", "signing_secret"),
        "signing_secret = \"<redacted>\"  # file line 6 (slack.signing_secret_file)"
    );
    assert!(
        line_of(&out, "database", "url").contains("password=<redacted>"),
        "{out}"
    );
    let _ = code;

    // From the environment, inline and as *_FILE.
    let (_, out, err) = run(waitctl()
        .args(["config", "check", "--data-dir"])
        .arg(&data)
        .env("WAIT_SLACK_SIGNING_SECRET", "slack-secret-in-env")
        .env(
            "WAIT_DATABASE_URL",
            "postgres://wait:pg-password@127.0.0.1:1/wait",
        ));
    let all = format!("{out}{err}");
    assert!(
        !all.contains("slack-secret-in-env") && !all.contains("pg-password"),
        "{all}"
    );
    assert_eq!(
        line_of(&out, "slack", "signing_secret"),
        "signing_secret = \"<redacted>\"  # env WAIT_SLACK_SIGNING_SECRET"
    );
    assert!(
        line_of(&out, "database", "url")
            .starts_with("url = \"postgres://wait:<redacted>@127.0.0.1:1/wait\""),
        "{out}"
    );
    // `--help` shows neither the value of the variable nor a default from a file.
    let (_, help, _) = run(waitctl()
        .args(["serve", "--help"])
        .env("WAIT_DATABASE_URL", "postgres://wait:pg-password@db/wait"));
    assert!(!help.contains("pg-password"), "{help}");
}

#[test]
fn file_variables_trim_the_trailing_newline() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = initialised(tmp.path());
    let url_file = tmp.path().join("db-url");
    let url = format!("sqlite://{}", data.join("wait.db").display());
    std::fs::write(&url_file, format!("{url}\n")).expect("write url file");
    let (code, out, err) = run(waitctl()
        .args(["config", "check", "--data-dir"])
        .arg(&data)
        .env("WAIT_DATABASE_URL_FILE", &url_file));
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(
        line_of(&out, "database", "url"),
        format!("url = \"{url}\"  # env WAIT_DATABASE_URL_FILE")
    );
    assert!(out.contains("schema version"), "{out}");
    // The other subcommands use it too: `init` against it opens the same database.
    let (code, out, err) = run(waitctl()
        .arg("init")
        .arg("--data-dir")
        .arg(&data)
        .env("WAIT_DATABASE_URL_FILE", &url_file));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&url), "{out}");
}

#[test]
fn check_fails_on_a_missing_repository_and_a_newer_schema() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (code, _, err) = run(waitctl()
        .args(["config", "check", "--data-dir"])
        .arg(tmp.path().join("nothing")));
    assert_eq!(code, 2);
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        !tmp.path().join("nothing").exists(),
        "a check must not create files"
    );

    let data = initialised(tmp.path());
    let db = data.join("wait.db");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open database");
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from the future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .expect("insert a newer migration");
        pool.close().await;
    });
    let (code, _, err) = run(waitctl().args(["config", "check", "--data-dir"]).arg(&data));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("9999"), "{err}");
}

#[test]
fn the_example_file_lists_every_setting_and_passes_check() {
    let example_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../wait.example.toml");
    let example = std::fs::read_to_string(&example_path).expect("read wait.example.toml");
    let parsed: toml::Table = toml::from_str(&example).expect("the example is valid TOML");
    assert!(parsed.contains_key("paths"));

    let tmp = tempfile::tempdir().expect("tempdir");
    let data = initialised(tmp.path());
    let text = example
        .replace(
            "data_dir = \"/var/lib/wait\"",
            &format!("data_dir = {:?}", data.display().to_string()),
        )
        .replace(
            "repository = \"/var/lib/wait/WAIT_Repository\"",
            &format!(
                "repository = {:?}",
                data.join("WAIT_Repository").display().to_string()
            ),
        );
    assert_ne!(text, example, "the example's paths were not found");
    let file = tmp.path().join("wait.toml");
    std::fs::write(&file, &text).expect("write config");
    let (code, out, err) = run(waitctl().args(["config", "check", "--config"]).arg(&file));
    assert_eq!(code, 0, "{err}\n{out}");

    // Every setting `config check` knows is in the example (set or commented out).
    let mut section = String::new();
    for line in out.lines() {
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = s.to_string();
            assert!(
                example.contains(&format!("[{s}]")),
                "[{s}] missing from the example"
            );
            continue;
        }
        let key = line
            .trim_start_matches("# ")
            .split([' ', '='])
            .next()
            .unwrap_or("");
        if section.is_empty()
            || key.is_empty()
            || line.starts_with("# ") && !line.contains(" is not set")
        {
            continue;
        }
        assert!(
            example.contains(&format!("\n{key} = ")) || example.contains(&format!("\n# {key} = ")),
            "{section}.{key} missing from the example"
        );
    }
    // Values set in the example come from it, with its line numbers.
    let line = example
        .lines()
        .position(|l| l == "concurrency = 1")
        .expect("the example sets concurrency")
        + 1;
    assert_eq!(
        line_of(&out, "worker", "concurrency"),
        format!("concurrency = 1  # file line {line}")
    );
}
