//! The one sync state per remote (docs/HUB_API.md and docs/GIT_SYNC.md,
//! "Sync state") through the real binary: `status` reads a store written
//! before it (the hub's old `hub.*` keys and notify's clock of the failures),
//! and a failing `sync` carries on that run of failures in the new record.

mod common;

use chittysync_store::Store;
use common::{free_port, Sandbox};

#[test]
fn status_reads_an_old_stores_hub_keys_and_a_failing_sync_carries_them_on() {
    let sb = Sandbox::new();
    let url = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(
        sb.home().join("config.toml"),
        format!("device = \"laptop\"\n[hub]\nurl = \"{url}\"\ntoken = \"cst_test\"\n"),
    )
    .unwrap();
    {
        let mut store = Store::open(&sb.home().join("chittysync.db")).unwrap();
        let tx = store.begin().unwrap();
        for (key, value) in [
            ("hub.url", url.as_str()),
            ("hub.push_seq", "0"),
            ("hub.pull_cursor", "12"),
            (
                "hub.last_sync",
                r#"{"at":"2026-11-30T10:00:00.000Z","pushed":3,"pulled":5}"#,
            ),
            (
                "hub.last_error",
                r#"{"at":"2026-11-30T11:00:00.000Z","message":"the hub failed (503): busy"}"#,
            ),
            (
                "notify.sync_failing.hub",
                r#"{"since":"2026-11-30T10:30:00.000Z","error":"the hub failed (503): busy"}"#,
            ),
        ] {
            tx.set_meta(key, value).unwrap();
        }
        tx.commit().unwrap();
    }

    let status = sb.json(&["status"]);
    let hub = &status["hub"];
    assert_eq!(hub["pull_cursor"], "12", "{status}");
    assert_eq!(hub["last_sync"]["detail"], "3 pushed, 5 pulled", "{status}");
    assert_eq!(
        hub["last_error"]["detail"], "the hub failed (503): busy",
        "{status}"
    );
    assert_eq!(hub["failing_since"], "2026-11-30T10:30:00.000Z", "{status}");
    let text = sb.ok(&["status"]);
    assert!(text.contains("hub         "), "{text}");
    let out = sb.run(&["status"]);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        warnings.contains("the last hub sync failed") && warnings.contains("failing since"),
        "{warnings}"
    );

    // The hub is not there: the sync fails, the run of failures goes on
    // (same start), its message is the new one, and the record is written.
    let out = sb.run(&["sync", "--no-consolidate"]);
    assert!(!out.status.success());
    let status = sb.json(&["status"]);
    let hub = &status["hub"];
    assert_eq!(hub["failing_since"], "2026-11-30T10:30:00.000Z", "{status}");
    let detail = hub["last_error"]["detail"].as_str().unwrap_or("");
    assert!(detail.starts_with("cannot reach the hub at"), "{status}");
    let store = Store::open(&sb.home().join("chittysync.db")).unwrap();
    assert!(store.meta("sync.hub").unwrap().is_some());
    assert_eq!(
        store.sync_state("hub").unwrap().pull_cursor.as_deref(),
        Some("12")
    );
}
