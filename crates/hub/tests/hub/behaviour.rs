//! HTTP behaviour every backend must show.

use crate::common::{
    alices_hub, http, json_of, next_batch, now_ms, obs, send_json, token, Backend, TestDb, TestHub,
};
use chittysync_core::snapshot::sort_entries;
use chittysync_core::{fold, Status, TodoEntry};
use chittysync_hub::tokens::{self, TokenError};
use chittysync_hub::HubConfig;
use chittysync_hubclient::client::ClientError;
use serde_json::json;

const HOUR: i64 = 60 * 60 * 1000;

backend_tests!(
    status_counts_what_was_posted,
    reposting_counts_duplicates,
    since_pages_in_arrival_order,
    todos_are_the_core_fold,
    views_describe_projects_sessions_topics,
    orchestrate_is_deterministic,
    tenants_are_isolated,
    errors_are_json,
    body_over_the_limit_is_413,
    tokens_are_created_listed_and_revoked,
    openapi_and_metrics_describe_the_hub,
);

async fn status_counts_what_was_posted(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let recent = now_ms() - 60_000;
    let old = now_ms() - 72 * HOUR;
    let batch = vec![
        obs("api", "Write tests", Status::Pending, "s1", recent),
        obs("api", "Fix the bug", Status::Completed, "s1", recent),
        // A stale copy elsewhere: a conflict, resolved to completed.
        obs("api", "fix  the BUG", Status::Pending, "s2", recent - 1000),
        obs("web", "Deploy", Status::InProgress, "s3", old),
        obs("web", "Old idea", Status::Deleted, "s3", old),
    ];
    let answer = client.push("laptop", &batch).await.unwrap();
    assert_eq!((answer.accepted, answer.duplicates), (5, 0));
    assert_eq!(answer.cursor, "5");
    assert_eq!(answer.conflicts.len(), 1);
    assert_eq!(answer.conflicts[0].resolution, Status::Completed);
    assert_eq!(answer.conflicts[0].sides.len(), 2);

    let (status, body) = send_json(http().get(hub.url("/api/status")).bearer_auth(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({
            "service": "sync",
            "version": env!("CARGO_PKG_VERSION"),
            "encrypted": false,
            "observations": 5,
            "devices": 1,
            "projects": {"total": 2, "synced": 1},
            "sessions": {"total": 3, "active": 2},
            "topics": {"categories": 2, "total_conversations": 3},
            "todos": {"total": 3, "pending": 1, "in_progress": 1, "completed": 1}
        })
    );
    hub.stop().await.unwrap();
}

async fn reposting_counts_duplicates(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let t = now_ms();
    let a = obs("api", "One", Status::Pending, "s1", t);
    let b = obs("api", "Two", Status::Pending, "s1", t);
    let c = obs("api", "Three", Status::Pending, "s1", t);
    let first = client
        .push("laptop", &[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();
    assert_eq!(
        (first.accepted, first.duplicates, first.cursor.as_str()),
        (3, 0, "3")
    );
    let again = client
        .push("laptop", &[a.clone(), b.clone(), c.clone()])
        .await
        .unwrap();
    assert_eq!(
        (again.accepted, again.duplicates, again.cursor.as_str()),
        (0, 3, "3")
    );
    // One new, one stored, and the new one repeated within the request.
    let d = obs("api", "Four", Status::Completed, "s2", t);
    let mixed = client.push("laptop", &[d.clone(), a, d]).await.unwrap();
    assert_eq!(
        (mixed.accepted, mixed.duplicates, mixed.cursor.as_str()),
        (1, 2, "4")
    );
    let page = client.since("0", None).await.unwrap();
    assert_eq!(page.observations.len(), 4);
    let status = client.status().await.unwrap();
    assert_eq!(status.todos.total, 4);
    assert_eq!(status.sessions.total, 2);
    // An empty push changes nothing and still tells the cursor.
    let empty = client.push("laptop", &[]).await.unwrap();
    assert_eq!(
        (empty.accepted, empty.duplicates, empty.cursor.as_str()),
        (0, 0, "4")
    );
    hub.stop().await.unwrap();
}

async fn since_pages_in_arrival_order(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let t = now_ms();
    // Observation times deliberately out of order: arrival order is what counts.
    let all: Vec<_> = (0..25)
        .map(|i| {
            obs(
                "api",
                &format!("todo {i}"),
                Status::Pending,
                "s1",
                t - i * 1000,
            )
        })
        .collect();
    for chunk in all.chunks(10) {
        client.push("laptop", chunk).await.unwrap();
    }
    let mut cursor = "0".to_string();
    let mut seen = Vec::new();
    let mut pages = Vec::new();
    loop {
        let page = client.since(&cursor, Some(10)).await.unwrap();
        pages.push((page.observations.len(), page.more, page.cursor.clone()));
        seen.extend(page.observations);
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(
        pages,
        vec![
            (10, true, "10".to_string()),
            (10, true, "20".to_string()),
            (5, false, "25".to_string())
        ]
    );
    assert_eq!(seen, all);
    let end = client.since("25", None).await.unwrap();
    assert_eq!(
        (end.observations.len(), end.more, end.cursor.as_str()),
        (0, false, "25")
    );
    let middle = client.since("23", None).await.unwrap();
    assert_eq!(middle.observations, all[23..].to_vec());
    match client.since("abc", None).await {
        Err(ClientError::Api {
            status: 400,
            message,
        }) => {
            assert!(message.contains("invalid cursor"), "{message}")
        }
        other => panic!("expected 400, got {other:?}"),
    }
    match client.since("-1", None).await {
        Err(ClientError::Api { status: 400, .. }) => {}
        other => panic!("expected 400, got {other:?}"),
    }
    hub.stop().await.unwrap();
}

async fn todos_are_the_core_fold(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let t = now_ms() - HOUR;
    let batches = vec![
        vec![
            obs("api", "Ship", Status::Completed, "s1", t),
            obs("api", "Ship", Status::Pending, "s2", t + 10),
            obs("api", "Reopen me", Status::Completed, "s1", t),
            obs("web", "Gone", Status::Deleted, "s3", t),
        ],
        vec![
            // s1 reopens its own todo; a stale copy of s1 arrives late too.
            obs("api", "Reopen me", Status::Pending, "s1", t + 20),
            obs("api", "Ship", Status::InProgress, "s1", t - 5),
            obs("web", "Style", Status::InProgress, "s3", t + 30),
        ],
    ];
    for batch in &batches {
        client.push("laptop", batch).await.unwrap();
    }
    let all: Vec<_> = batches.concat();
    let mut expected: Vec<TodoEntry> = Vec::new();
    let mut expected_conflicts = Vec::new();
    for state in fold(&all).values() {
        let resolved = state.resolve().unwrap();
        if resolved.entry.status != Status::Deleted {
            expected_conflicts.extend(resolved.conflict.clone());
            expected.push(resolved.entry);
        }
    }
    sort_entries(&mut expected);
    let got = client.todos().await.unwrap();
    assert_eq!(got.todos, expected);
    assert_eq!(got.conflicts, expected_conflicts);
    assert_eq!(got.todos.len(), 3);
    assert_eq!(got.conflicts.len(), 1);
    let reopened = got.todos.iter().find(|t| t.content == "Reopen me").unwrap();
    assert_eq!(reopened.status, Status::Pending);

    let get = |query: &'static str| {
        send_json(
            http()
                .get(hub.url(&format!("/api/todos{query}")))
                .bearer_auth(&token),
        )
    };
    let (status, body) = get("?project=web").await;
    assert_eq!(status, 200);
    let contents: Vec<&str> = body["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, vec!["Style"]);
    let (_, body) = get("?status=deleted").await;
    assert_eq!(body["todos"][0]["content"], "Gone");
    assert_eq!(body["todos"].as_array().unwrap().len(), 1);
    let (_, body) = get("?status=completed&project=api").await;
    assert_eq!(body["todos"].as_array().unwrap().len(), 1);
    assert_eq!(body["conflicts"].as_array().unwrap().len(), 1);
    let (status, body) = get("?status=done").await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().contains("status"), "{body}");
    hub.stop().await.unwrap();
}

async fn views_describe_projects_sessions_topics(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let recent = now_ms() - 1000;
    let old = now_ms() - 48 * HOUR;
    let mut first = obs("api", "A", Status::Pending, "s1", old);
    first.device = "desktop".into();
    first.id = first.computed_id();
    client
        .push(
            "laptop",
            &[
                first,
                obs("api", "B", Status::InProgress, "s1", recent),
                obs("api", "C", Status::Completed, "s2", old),
                obs("web", "D", Status::Pending, "s3", old),
            ],
        )
        .await
        .unwrap();

    let projects = client.projects().await.unwrap().projects;
    assert_eq!(projects.len(), 2);
    let api = &projects[0];
    assert_eq!(api.project, "api");
    assert_eq!(
        (api.todos, api.pending, api.in_progress, api.completed),
        (3, 1, 1, 1)
    );
    assert_eq!((api.sessions, api.active_sessions), (2, 1));
    assert_eq!(api.last_activity.unwrap().millis(), recent);
    assert_eq!(
        (projects[1].project.as_str(), projects[1].active_sessions),
        ("web", 0)
    );

    let sessions = client.sessions().await.unwrap().sessions;
    let ids: Vec<&str> = sessions.iter().map(|s| s.session.as_str()).collect();
    assert_eq!(ids, vec!["s1", "s2", "s3"]);
    let s1 = &sessions[0];
    // The newest observation names the device.
    assert_eq!((s1.device.as_str(), s1.project.as_str()), ("laptop", "api"));
    assert_eq!(s1.first_observed.millis(), old);
    assert_eq!(s1.last_observed.millis(), recent);
    assert_eq!((s1.observations, s1.active), (2, true));
    assert_eq!((s1.pending, s1.in_progress, s1.completed), (1, 1, 0));
    assert!(!sessions[1].active);
    assert_eq!(sessions[1].completed, 1);

    let topics = client.topics().await.unwrap().topics;
    assert_eq!(topics.len(), 2);
    assert_eq!(
        (
            topics[0].topic.as_str(),
            topics[0].conversations,
            topics[0].todos,
            topics[0].open
        ),
        ("api", 2, 3, 2)
    );
    assert_eq!((topics[1].topic.as_str(), topics[1].open), ("web", 1));
    hub.stop().await.unwrap();
}

async fn orchestrate_is_deterministic(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let recent = now_ms() - 1000;
    let old = now_ms() - 72 * HOUR;
    client
        .push(
            "laptop",
            &[
                // Three active api sessions; s1 already holds one open todo.
                obs("api", "Held", Status::InProgress, "s1", recent),
                obs("api", "Done", Status::Completed, "s2", recent),
                obs("api", "Done too", Status::Completed, "s3", recent),
                // Pending work from an old session, and a project nobody is on.
                obs("api", "P1", Status::Pending, "old", old),
                obs("api", "P2", Status::Pending, "old", old),
                obs("api", "P3", Status::Pending, "old", old),
                obs("api", "P4", Status::Pending, "old", old),
                obs("web", "W1", Status::Pending, "gone", old),
            ],
        )
        .await
        .unwrap();
    let id = |p: &str, c: &str| chittysync_core::todo_id(p, c);
    let plan = client.orchestrate(None).await.unwrap();
    let got: Vec<(String, Vec<String>)> = plan
        .assignments
        .iter()
        .map(|a| {
            assert_eq!(a.project, "api");
            (a.session.clone(), a.todos.clone())
        })
        .collect();
    // Loads 1, 0, 0: P1 → s2, P2 → s3, then all at 1: P3 → s1, P4 → s2.
    assert_eq!(
        got,
        vec![
            ("s1".to_string(), vec![id("api", "P3")]),
            ("s2".to_string(), vec![id("api", "P1"), id("api", "P4")]),
            ("s3".to_string(), vec![id("api", "P2")]),
        ]
    );
    assert_eq!(plan.unassigned, vec![id("web", "W1")]);
    for _ in 0..3 {
        assert_eq!(client.orchestrate(None).await.unwrap(), plan);
    }
    let web = client.orchestrate(Some("web")).await.unwrap();
    assert!(web.assignments.is_empty());
    assert_eq!(web.unassigned, vec![id("web", "W1")]);

    // The body is optional; a malformed one is still an error.
    let post = |body: &'static str| {
        send_json(
            http()
                .post(hub.url("/api/orchestrate"))
                .bearer_auth(&token)
                .body(body),
        )
    };
    let (status, body) = post("").await;
    assert_eq!(status, 200);
    assert_eq!(body["unassigned"], json!([id("web", "W1")]));
    assert_eq!(post("{}").await.0, 200);
    assert_eq!(post("{").await.0, 400);
    assert_eq!(post(r#"{"project": 7}"#).await.0, 422);
    hub.stop().await.unwrap();
}

async fn tenants_are_isolated(backend: Backend) {
    let db = TestDb::new(backend);
    let alice = token(&db.url, "alice").await;
    let bob = token(&db.url, "bob").await;
    let hub = TestHub::start(&db.url).await;
    let t = now_ms();
    let batch = vec![
        obs("secret", "Alice's plan", Status::Pending, "a1", t),
        obs("secret", "Alice's other plan", Status::Completed, "a1", t),
    ];
    let a = hub.client(&alice);
    let b = hub.client(&bob);
    a.push("laptop", &batch).await.unwrap();

    // Every read route, raw, as Bob: nothing of Alice's.
    for path in [
        "/api/status",
        "/api/todos",
        "/api/todos?status=completed",
        "/api/todos/since/0",
        "/api/project",
        "/api/session",
        "/api/topic",
    ] {
        let (status, body) = send_json(http().get(hub.url(path)).bearer_auth(&bob)).await;
        assert_eq!(status, 200, "{path}");
        let text = body.to_string();
        assert!(
            !text.contains("secret") && !text.contains("Alice") && !text.contains("a1"),
            "{path}: {text}"
        );
    }
    let status = b.status().await.unwrap();
    assert_eq!(
        (
            status.projects.map(|p| p.total),
            status.sessions.total,
            status.todos.total
        ),
        (Some(0), 0, 0)
    );
    let page = b.since("0", None).await.unwrap();
    assert!(page.observations.is_empty());
    assert_eq!(page.cursor, "0");
    let plan = b.orchestrate(None).await.unwrap();
    assert!(plan.assignments.is_empty() && plan.unassigned.is_empty());

    // The same observation ids are separate facts per tenant: Bob's copy is
    // accepted, not a duplicate of Alice's, and Alice's data is untouched.
    let answer = b.push("phone", &batch[..1]).await.unwrap();
    assert_eq!(
        (answer.accepted, answer.duplicates, answer.cursor.as_str()),
        (1, 0, "1")
    );
    assert_eq!(a.since("0", None).await.unwrap().observations.len(), 2);
    assert_eq!(a.status().await.unwrap().todos.total, 2);
    assert_eq!(b.status().await.unwrap().todos.total, 1);

    // WebSocket: Bob hears only Bob's.
    let mut bob_ws = b.subscribe(None).await.unwrap();
    let mut alice_ws = a.subscribe(None).await.unwrap();
    let more = vec![obs(
        "secret",
        "Alice's third plan",
        Status::Pending,
        "a1",
        t,
    )];
    a.push("laptop", &more).await.unwrap();
    let heard = next_batch(&mut alice_ws).await;
    assert_eq!(heard.observations, more);
    let silence = tokio::time::timeout(std::time::Duration::from_millis(700), bob_ws.next()).await;
    assert!(silence.is_err(), "bob heard {silence:?}");
    // Bob replaying from 0 gets only his own observation.
    let mut replay = b.subscribe(Some("0")).await.unwrap();
    let own = next_batch(&mut replay).await;
    assert_eq!(own.observations, batch[..1].to_vec());
    hub.stop().await.unwrap();
}

async fn errors_are_json(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = http();

    let (status, body) = send_json(client.get(hub.url("/api/health"))).await;
    assert_eq!((status, body), (200, json!({"status": "ok"})));

    // 401: no token, an unknown one, another scheme.
    let (status, body) = send_json(client.get(hub.url("/api/status"))).await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "missing bearer token"}))
    );
    let (status, body) = send_json(client.get(hub.url("/api/todos")).bearer_auth("cst_0000")).await;
    assert_eq!(
        (status, body),
        (401, json!({"error": "invalid or revoked token"}))
    );
    let response = client
        .get(hub.url("/api/todos"))
        .basic_auth("alice", Some("pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_eq!(json_of(response).await.0, 401);
    // A token in the query string counts only on the WebSocket route.
    let (status, _) = send_json(client.get(hub.url(&format!("/api/status?token={token}")))).await;
    assert_eq!(status, 401);

    // 404 and 405.
    let (status, body) = send_json(client.get(hub.url("/api/nothing")).bearer_auth(&token)).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "no route for /api/nothing"}))
    );
    assert_eq!(send_json(client.get(hub.url("/nope"))).await.0, 404);
    let (status, body) = send_json(client.delete(hub.url("/api/status")).bearer_auth(&token)).await;
    assert_eq!(
        (status, body),
        (405, json!({"error": "method not allowed"}))
    );

    let sync = |body: String| {
        send_json(
            client
                .post(hub.url("/api/todos/sync"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body),
        )
    };
    // 400: not JSON.
    let (status, body) = sync("{\"device_id\": ".into()).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"),
        "{body}"
    );
    // 422: JSON of the wrong shape, naming the field.
    let good = serde_json::to_value(obs("api", "Fine", Status::Pending, "s1", now_ms())).unwrap();
    let mut wrong_todo =
        serde_json::to_value(obs("api", "Other", Status::Pending, "s1", now_ms())).unwrap();
    wrong_todo["todo_id"] = json!("0123456789abcdef");
    let mut bad_status = good.clone();
    bad_status["status"] = json!("done");
    let mut short_id = good.clone();
    short_id["id"] = json!("abc");
    let mut no_content = good.clone();
    no_content.as_object_mut().unwrap().remove("content");
    let mut bad_time = good.clone();
    bad_time["observed_at"] = json!("yesterday");
    let cases = [
        (
            json!({"device_id": "d", "observations": [good, wrong_todo]}),
            "observations[1].todo_id: ",
        ),
        (
            json!({"device_id": "d", "observations": [bad_status]}),
            "observations[0].status: unknown variant `done`",
        ),
        (
            json!({"device_id": "d", "observations": [short_id]}),
            "observations[0].id: must be 32 hex digits",
        ),
        (
            json!({"device_id": "d", "observations": [no_content]}),
            "observations[0].content: missing field",
        ),
        (
            json!({"device_id": "d", "observations": [bad_time]}),
            "observations[0].observed_at: ",
        ),
        (json!({"observations": []}), "device_id: missing field"),
        (
            json!({"device_id": "", "observations": []}),
            "device_id: must be a non-empty string",
        ),
        (
            json!({"device_id": "d", "observations": {}}),
            "observations: invalid type",
        ),
        (json!(7), "invalid type: integer `7`"),
    ];
    for (request, expected) in cases {
        let (status, body) = sync(request.to_string()).await;
        assert_eq!(status, 422, "{request}");
        let message = body["error"].as_str().unwrap();
        assert!(
            message.starts_with(expected),
            "{message} should start with {expected}"
        );
    }
    // A refused request stores nothing, not even its valid part.
    let page = hub.client(&token).since("0", None).await.unwrap();
    assert!(page.observations.is_empty());
    hub.stop().await.unwrap();
}

async fn body_over_the_limit_is_413(backend: Backend) {
    let db = TestDb::new(backend);
    let token = token(&db.url, "alice").await;
    let mut config = HubConfig::new("127.0.0.1:0".parse().unwrap(), db.url.clone());
    config.max_body_bytes = 2048;
    let hub = TestHub::start_with(config).await;
    let client = hub.client(&token);
    let t = now_ms();
    let small = vec![obs("api", "Small", Status::Pending, "s1", t)];
    assert_eq!(client.push("laptop", &small).await.unwrap().accepted, 1);
    let big: Vec<_> = (0..40)
        .map(|i| obs("api", &format!("Big {i}"), Status::Pending, "s1", t))
        .collect();
    match client.push("laptop", &big).await {
        Err(ClientError::Api {
            status: 413,
            message,
        }) => {
            assert!(message.contains("larger"), "{message}")
        }
        other => panic!("expected 413, got {other:?}"),
    }
    // Without a token the size does not matter: 401 comes first.
    let (status, _) = send_json(
        http()
            .post(hub.url("/api/todos/sync"))
            .body(vec![b' '; 10_000]),
    )
    .await;
    assert_eq!(status, 401);
    hub.stop().await.unwrap();
}

async fn tokens_are_created_listed_and_revoked(backend: Backend) {
    let db = TestDb::new(backend);
    let a1 = token(&db.url, "alice").await;
    let a2 = token(&db.url, "alice").await;
    let b1 = token(&db.url, " bob ").await;
    assert!(a1.starts_with("cst_") && a1.len() == 68, "{a1}");
    assert_ne!(a1, a2);
    assert!(matches!(
        tokens::create(&db.url, "  ").await,
        Err(TokenError::InvalidTenant(_))
    ));

    let listed = tokens::list(&db.url).await.unwrap();
    assert_eq!(listed.len(), 3);
    let tenants: Vec<&str> = listed.iter().map(|t| t.tenant.as_str()).collect();
    assert_eq!(tenants, vec!["alice", "alice", "bob"]);
    for (info, token) in listed.iter().zip([&a1, &a2, &b1]) {
        assert!(token.starts_with(&info.prefix) && info.prefix.len() == 12);
        assert!(info.revoked_at.is_none());
    }

    let hub = TestHub::start(&db.url).await;
    assert!(hub.client(&a1).status().await.is_ok());

    // Revoke by prefix: that token is refused at once, the other one works.
    let revoked = tokens::revoke(&db.url, &listed[0].prefix).await.unwrap();
    assert_eq!(revoked.id, listed[0].id);
    let when = revoked.revoked_at.expect("revoked");
    match hub.client(&a1).status().await {
        Err(ClientError::Api {
            status: 401,
            message,
        }) => {
            assert_eq!(message, "invalid or revoked token")
        }
        other => panic!("expected 401, got {other:?}"),
    }
    match hub.client(&a1).subscribe(None).await {
        Err(ClientError::Api { status: 401, .. }) => {}
        other => panic!("expected 401, got {:?}", other.map(|s| s.cursor)),
    }
    assert!(hub.client(&a2).status().await.is_ok());
    // Revoking again keeps the first time.
    let again = tokens::revoke(&db.url, &listed[0].id.to_string())
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(when));
    // By the token itself, and by id.
    tokens::revoke(&db.url, &a2).await.unwrap();
    assert!(hub.client(&a2).status().await.is_err());
    tokens::revoke(&db.url, &listed[2].id.to_string())
        .await
        .unwrap();
    assert!(hub.client(&b1).status().await.is_err());

    assert!(matches!(
        tokens::revoke(&db.url, "9999").await,
        Err(TokenError::NotFound(_))
    ));
    assert!(matches!(
        tokens::revoke(&db.url, "nonsense").await,
        Err(TokenError::NotFound(_))
    ));
    assert!(matches!(
        tokens::revoke(&db.url, "cst_").await,
        Err(TokenError::Ambiguous(_, 3))
    ));
    let listed = tokens::list(&db.url).await.unwrap();
    assert!(listed.iter().all(|t| t.revoked_at.is_some()));
    hub.stop().await.unwrap();
}

async fn openapi_and_metrics_describe_the_hub(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    hub.client(&token)
        .push(
            "laptop",
            &[obs("api", "Count me", Status::Pending, "s1", now_ms())],
        )
        .await
        .unwrap();

    let (status, doc) = send_json(http().get(hub.url("/api/openapi.json"))).await;
    assert_eq!(status, 200);
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "/api/health",
        "/api/openapi.json",
        "/api/orchestrate",
        "/api/project",
        "/api/session",
        "/api/status",
        "/api/todos",
        "/api/todos/since/{cursor}",
        "/api/todos/sync",
        "/api/topic",
        "/api/ws",
        "/metrics",
    ];
    expected.sort();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    // Every route the description calls protected is, and the others are not.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post"].contains(&method.as_str()) {
                continue;
            }
            let protected = operation.get("security").is_some();
            let concrete = path.replace("{cursor}", "0");
            let request =
                http().request(method.to_uppercase().parse().unwrap(), hub.url(&concrete));
            let status = request.send().await.unwrap().status().as_u16();
            if protected {
                assert_eq!(status, 401, "{method} {path}");
            } else {
                assert_eq!(status, 200, "{method} {path}");
            }
        }
    }
    assert!(doc["components"]["schemas"]["Observation"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let metrics = hub.metrics().await;
    assert!(
        metrics.contains("chittysync_hub_observations_ingested_total 1"),
        "{metrics}"
    );
    assert!(
        metrics
            .contains(r#"chittysync_hub_requests_total{route="/api/todos/sync",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"route="/api/status",status="401""#),
        "{metrics}"
    );
    assert!(metrics.contains("chittysync_hub_ws_clients 0"), "{metrics}");
    hub.stop().await.unwrap();
}
