//! The binary's exit codes and messages: 0 success, 1 runtime failure,
//! 2 bad usage or input.

use std::process::{Command, Output};

fn finops(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(args)
        .env_remove("FINOPS_DATABASE_URL")
        .output()
        .expect("run finops")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn migrate_applies_then_reports_up_to_date() {
    let (_dir, url) = crate::helpers::scratch_sqlite("m.db");
    let first = finops(&["--database", &url, "migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(String::from_utf8_lossy(&first.stdout).contains("applied"));
    let second = finops(&["--database", &url, "migrate"]);
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("up to date"));
}

#[test]
fn bad_input_exits_2_with_a_one_line_message() {
    let (_dir, url) = crate::helpers::scratch_sqlite("x.db");
    let o = finops(&[
        "--database",
        &url,
        "export",
        "monthly",
        "--month",
        "2026-13",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("'2026-13' is not a month"),
        "{}",
        stderr(&o)
    );

    let o = finops(&["--database", "mysql://localhost/x", "migrate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unsupported database URL"),
        "{}",
        stderr(&o)
    );

    let o = finops(&["demo", "--months", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn an_unreachable_database_exits_1() {
    let o = finops(&[
        "--database",
        "postgres://postgres@127.0.0.1:1/finops",
        "migrate",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot connect to the database"),
        "{}",
        stderr(&o)
    );
    let o = finops(&["--database", "sqlite:///no/such/dir/finops.db", "migrate"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
}

#[test]
fn help_explains_the_commands() {
    let o = finops(&["--help"]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "serve",
        "demo",
        "migrate",
        "export",
        "FINOPS_DATABASE_URL",
        "sqlite://finops.db",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn demo_and_export_write_a_file() {
    let (dir, url) = crate::helpers::scratch_sqlite("d.db");
    let o = finops(&[
        "--database",
        &url,
        "demo",
        "--months",
        "1",
        "--end",
        "2026-10-31",
        "--seed",
        "5",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("demo loaded: 2026-10-01 to 2026-10-31"),
        "{}",
        stderr(&o)
    );
    let out = dir.path().join("oct.csv");
    let o = finops(&[
        "--database",
        &url,
        "export",
        "monthly",
        "--month",
        "2026-10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.lines().count() > 100);
}

/// `finops user …` with the password on standard input.
fn user_cmd(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let mut all = vec!["user"];
    all.extend_from_slice(args);
    crate::helpers::finops_cli(url, &all, stdin)
}

#[test]
fn users_are_added_with_a_role_and_an_argon2id_hash_only() {
    use crate::helpers::{Backend, TestDb};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !crate::helpers::postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let url = db.url();
        let out = user_cmd(
            url,
            &["add", "fin.lead", "--role", "analyst"],
            "correct horse battery\n",
        );
        crate::helpers::assert_ran(&out);
        // Refused: a short password, a bad name, an unknown role, a duplicate.
        for (args, stdin, needle) in [
            (
                vec!["add", "short", "--role", "viewer"],
                "tooshort\n",
                "too short",
            ),
            (
                vec!["add", "Bad Name", "--role", "viewer"],
                "correct horse battery\n",
                "not a user name",
            ),
            (
                vec!["add", "ops", "--role", "root"],
                "correct horse battery\n",
                "not a role",
            ),
            (
                vec!["add", "fin.lead", "--role", "viewer"],
                "correct horse battery\n",
                "exists",
            ),
            (vec!["remove", "nobody"], "", "no user"),
        ] {
            let out = user_cmd(url, &args, stdin);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(needle),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let stored = {
            let pool = finops::db::connect_pool(url, 1).unwrap();
            let mut conn = pool.get().unwrap();
            finops::db::users::find(&mut conn, "fin.lead")
                .unwrap()
                .unwrap()
        };
        assert_eq!(stored.role, "analyst");
        assert!(stored.password_hash.starts_with("$argon2id$"));
        assert!(!stored.password_hash.contains("correct horse"));
        assert!(finops::auth::password::verify(
            "correct horse battery",
            &stored.password_hash
        ));
        // A new password and role; the list shows roles, never hashes.
        assert!(
            user_cmd(url, &["passwd", "fin.lead"], "a new long passphrase\n")
                .status
                .success()
        );
        assert!(user_cmd(url, &["role", "fin.lead", "admin"], "")
            .status
            .success());
        let list = user_cmd(url, &["list", "--json"], "");
        let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(json[0]["username"], "fin.lead");
        assert_eq!(json[0]["role"], "admin");
        assert!(json[0].get("password_hash").is_none());
        let pool = finops::db::connect_pool(url, 1).unwrap();
        let mut conn = pool.get().unwrap();
        let user = finops::db::users::find(&mut conn, "fin.lead")
            .unwrap()
            .unwrap();
        assert!(finops::auth::password::verify(
            "a new long passphrase",
            &user.password_hash
        ));
        assert!(user_cmd(url, &["remove", "fin.lead"], "").status.success());
        assert!(finops::db::users::find(&mut conn, "fin.lead")
            .unwrap()
            .is_none());
    }
}

/// `finops catalog import-aws`: AWS's offer and Savings Plans files (JSON,
/// CSV, gzip) laid over the catalog; a bad file among them changes
/// nothing and is named with its line and column.
#[test]
fn catalog_import_aws_reads_price_list_files_and_refuses_a_bad_one_whole() {
    let (dir, url) = crate::helpers::scratch_sqlite("p.db");
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/price-list");
    let f = |name: &str| fixtures.join(name).to_string_lossy().into_owned();
    // The CSV offer, gzip-compressed as AWS serves it on request.
    let gz = dir.path().join("ec2-eu-west-1.csv.gz");
    {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(&std::fs::read(fixtures.join("ec2-eu-west-1.csv")).unwrap())
            .unwrap();
        enc.finish().unwrap();
    }
    let bad = dir.path().join("cut.json");
    let full = std::fs::read_to_string(fixtures.join("savings-plans-us-east-1.json")).unwrap();
    std::fs::write(&bad, &full[..full.len() - 40]).unwrap();
    assert!(finops(&["--database", &url, "migrate"]).status.success());

    let o = finops(&[
        "--database",
        &url,
        "catalog",
        "import-aws",
        &f("ec2-us-east-1.json"),
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("error: {}: line ", bad.display())),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("catalog in use is unchanged"),
        "{}",
        stderr(&o)
    );
    let show = finops(&["--database", &url, "catalog", "show"]);
    assert!(
        String::from_utf8_lossy(&show.stdout).contains("(built in)"),
        "{}",
        String::from_utf8_lossy(&show.stdout)
    );

    let o = finops(&[
        "--database",
        &url,
        "catalog",
        "import-aws",
        "--json",
        &f("ec2-us-east-1.json"),
        gz.to_str().unwrap(),
        &f("savings-plans-us-east-1.json"),
        &f("savings-plans-eu-west-1.json"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(summary["merge"]["on_demand"], 3);
    assert_eq!(summary["merge"]["commitments"], 10);
    assert_eq!(summary["files"][1]["published"], "2026-11-01");
    assert!(
        stderr(&o).contains("AWS Price List AWSComputeSavingsPlan, published 2026-11-01"),
        "{}",
        stderr(&o)
    );
    let show = finops(&["--database", &url, "catalog", "show"]);
    let text = String::from_utf8_lossy(&show.stdout);
    assert!(text.contains("AWS Price List: "), "{text}");
}
