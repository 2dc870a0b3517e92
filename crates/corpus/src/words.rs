//! The vocabulary of the synthetic corpus: project names, todo texts, prompts,
//! and the source code that fills tool results.

use crate::rng::{Rng, RngExt};
use rand::Rng as _;

/// Imperative verb and its `-ing` form (for `activeForm`).
pub const VERBS: &[(&str, &str)] = &[
    ("Add", "Adding"),
    ("Fix", "Fixing"),
    ("Refactor", "Refactoring"),
    ("Update", "Updating"),
    ("Write tests for", "Writing tests for"),
    ("Implement", "Implementing"),
    ("Remove", "Removing"),
    ("Document", "Documenting"),
    ("Investigate", "Investigating"),
    ("Migrate", "Migrating"),
    ("Optimize", "Optimizing"),
    ("Review", "Reviewing"),
    ("Clean up", "Cleaning up"),
    ("Extract", "Extracting"),
    ("Rename", "Renaming"),
    ("Validate", "Validating"),
    ("Debug", "Debugging"),
    ("Benchmark", "Benchmarking"),
    ("Simplify", "Simplifying"),
    ("Harden", "Hardening"),
];

pub const OBJECTS: &[&str] = &[
    "the login handler",
    "rate limiting middleware",
    "the user session cache",
    "pagination in the list endpoint",
    "the config loader",
    "error handling in the HTTP client",
    "the database migration for invoices",
    "the retry logic",
    "the CSV export",
    "flaky integration tests",
    "the CI workflow",
    "the Dockerfile",
    "the webhook signature check",
    "the search index",
    "the settings page",
    "dark mode styles",
    "the onboarding flow",
    "input validation",
    "structured logging",
    "the cron scheduler",
    "the S3 upload path",
    "memory usage in the parser",
    "the GraphQL schema",
    "type errors in the dashboard",
    "the payment reconciliation job",
    "feature flags",
    "the README",
    "the release script",
    "outdated dependencies",
    "the auth token refresh",
    "the OpenAPI spec",
    "connection pooling",
    "the email templates",
    "timezone handling",
    "the password reset flow",
    "the metrics exporter",
    "the admin permissions check",
    "N+1 queries in the orders view",
    "the websocket reconnect",
    "the cache invalidation",
    "the file watcher",
    "the CLI argument parsing",
    "the error boundary",
    "the build warnings",
    "the health check endpoint",
    "the data export job",
    "the i18n strings",
    "the audit log",
    "the image resizing worker",
    "the invoice PDF rendering",
    "the checkout form",
    "the Redis client",
    "the queue consumer",
    "the access token scopes",
    "the API client generator",
    "the test fixtures",
    "the seed data script",
    "the Helm chart",
    "the Terraform module",
    "the sitemap generator",
];

pub const MODULES: &[&str] = &[
    "src/auth",
    "src/api",
    "src/db",
    "src/handlers",
    "src/models",
    "src/utils",
    "src/config",
    "src/jobs",
    "src/http",
    "lib/core",
    "app/routes",
    "app/components",
    "pkg/server",
    "internal/store",
    "scripts",
    "tests/integration",
];

pub const ENTITIES: &[&str] = &[
    "users", "orders", "invoices", "projects", "teams", "webhooks", "reports", "payments",
    "sessions", "comments", "uploads", "tags", "accounts", "events",
];

pub const BRANCHES: &[&str] = &[
    "feature/rate-limit",
    "fix/login-redirect",
    "refactor/config",
    "feat/export",
    "chore/deps",
    "fix/flaky-tests",
    "feat/dark-mode",
    "perf/parser",
    "release/1.4",
];

const PROJECT_NAMES: &[&str] = &[
    "api",
    "webapp",
    "billing",
    "auth-service",
    "mobile",
    "infra",
    "docs-site",
    "data-pipeline",
    "cli",
    "dashboard",
    "search",
    "notifications",
    "payments",
    "gateway",
    "admin",
    "worker",
    "sdk",
    "analytics",
    "ml-platform",
    "chat",
];

const NAME_A: &[&str] = &[
    "orders",
    "users",
    "inventory",
    "shipping",
    "catalog",
    "ledger",
    "identity",
    "media",
    "reports",
    "events",
    "pricing",
    "support",
    "growth",
    "ops",
    "edge",
    "sync",
    "mail",
    "maps",
    "feeds",
    "audit",
];

const NAME_B: &[&str] = &[
    "api", "service", "web", "worker", "ui", "core", "cli", "engine", "proxy", "jobs",
];

const ROOTS: &[&str] = &["/home/dev/work", "/home/dev/src", "/home/dev/projects"];

/// A project's name and cwd. Distinct for distinct `i`.
pub fn project(i: usize) -> (String, String) {
    let name = if i < PROJECT_NAMES.len() {
        PROJECT_NAMES[i].to_string()
    } else {
        let j = i - PROJECT_NAMES.len();
        let combos = NAME_A.len() * NAME_B.len();
        let base = format!(
            "{}-{}",
            NAME_A[j % NAME_A.len()],
            NAME_B[(j / NAME_A.len()) % NAME_B.len()]
        );
        if j < combos {
            base
        } else {
            format!("{base}-{}", j / combos + 1)
        }
    };
    let cwd = format!("{}/{}", ROOTS[i % ROOTS.len()], name);
    (name, cwd)
}

/// The folder Claude Code keeps a cwd's transcripts in: every character that is
/// not ASCII alphanumeric becomes `-` (so `/home/dev/work/api` → `-home-dev-work-api`).
pub fn folder_of_cwd(cwd: &str) -> String {
    cwd.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// A todo's text and its `activeForm`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TodoText {
    pub content: String,
    pub active_form: String,
}

/// A fresh todo text. `unique` makes a collision with another fresh text unlikely.
pub fn todo_text(rng: &mut Rng, unique: bool) -> TodoText {
    let (verb, ing) = *rng.pick(VERBS);
    let object = *rng.pick(OBJECTS);
    let kinds = if unique { 5 } else { 8 };
    let tail = match rng.random_range(0..kinds) {
        0 => format!(" in {}", rng.pick(MODULES)),
        1 => format!(" for the {} endpoint", rng.pick(ENTITIES)),
        2 => format!(" (see issue #{})", rng.random_range(10..=9999)),
        3 => format!(" for {} in {}", rng.pick(ENTITIES), rng.pick(MODULES)),
        4 => format!(
            " before release {}.{}",
            rng.random_range(1..=4),
            rng.random_range(0..=30)
        ),
        _ => String::new(),
    };
    TodoText {
        content: format!("{verb} {object}{tail}"),
        active_form: format!("{ing} {object}{tail}"),
    }
}

/// The same todo as another session might type it: different case or spacing.
pub fn variant(rng: &mut Rng, text: &str) -> String {
    match rng.random_range(0..4) {
        0 => {
            let mut c = text.chars();
            match c.next() {
                Some(f) => f.to_lowercase().chain(c).collect(),
                None => String::new(),
            }
        }
        1 => text.replacen(' ', "  ", 1),
        2 => format!("{text} "),
        _ => {
            // Capitalize every word, as some prompts do.
            text.split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    match c.next() {
                        Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                        None => String::new(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
    }
}

pub const PROMPTS: &[&str] = &[
    "Can you add rate limiting to the public endpoints? Use the existing Redis client.",
    "The login redirect is broken after the last deploy, please investigate and fix it.",
    "Refactor the config loading so that env vars override the file.",
    "Let's get the flaky integration tests green again.",
    "Please implement CSV export for the reports page.",
    "Upgrade the dependencies and fix whatever breaks.",
    "Add pagination to the list endpoints, cursor based.",
    "Write tests for the payment reconciliation job.",
    "Clean up the warnings in the build and the dead code.",
    "Migrate the cron jobs to the new queue.",
    "continue",
    "Looks good. Now do the same for the orders endpoint.",
    "Why is memory usage of the parser so high on big files?",
    "Document the public API in the README.",
];

pub const ASSISTANT_TEXTS: &[&str] = &[
    "I'll start by looking at how this is structured today.",
    "Let me create a plan for this.",
    "Now let me run the tests to see where we are.",
    "The change compiles; running the test suite.",
    "Found it: the token is refreshed after the redirect instead of before.",
    "All tests pass. Let me update the todo list.",
    "Let me check the existing implementation first.",
    "I'll make the edit and re-run the failing test.",
];

pub const SUMMARIES: &[&str] = &[
    "Rate limiting for public API endpoints",
    "Fix login redirect after token refresh",
    "Config loader: env overrides file values",
    "Stabilize flaky integration tests",
    "CSV export for reports",
    "Dependency upgrade and fixes",
    "Cursor pagination for list endpoints",
    "Payment reconciliation job tests",
];

pub const BASH_COMMANDS: &[(&str, &str)] = &[
    (
        "cargo test --workspace 2>&1 | tail -40",
        "Run the test suite",
    ),
    ("npm test -- --runInBand", "Run unit tests"),
    ("git status && git diff --stat", "Show working tree status"),
    ("rg -n \"fn handle_\" src/", "Find handler functions"),
    ("pytest -x -q tests/", "Run the Python tests"),
    ("go test ./...", "Run Go tests"),
    ("npm run lint", "Lint the project"),
    ("ls -la src/", "List source files"),
];

const IDENTS: &[&str] = &[
    "user", "order", "invoice", "config", "session", "request", "response", "token", "client",
    "handler", "cache", "limiter", "record", "report", "payload", "event", "account", "queue",
    "worker", "batch", "entry", "result", "item", "state",
];

const TYPES: &[&str] = &[
    "User",
    "Order",
    "Invoice",
    "Config",
    "Session",
    "Request",
    "Response",
    "Token",
    "Client",
    "Handler",
    "Cache",
    "RateLimiter",
    "Report",
    "Event",
    "Account",
    "Queue",
];

/// One plausible line of source code (Rust, TypeScript or Python flavoured).
pub fn code_line(rng: &mut Rng) -> String {
    let a = *rng.pick(IDENTS);
    let b = *rng.pick(IDENTS);
    let t = *rng.pick(TYPES);
    let indent = "    ".repeat(rng.random_range(0..4));
    let body = match rng.random_range(0..28) {
        0 => format!("pub fn {a}_{b}(&self, {b}: &{t}) -> Result<{t}, Error> {{"),
        1 => format!("let {a} = self.{b}s.get(&id).ok_or(Error::NotFound)?;"),
        2 => format!("if {a}.is_empty() {{ return Ok(None); }}"),
        3 => "}".to_string(),
        4 => format!("// TODO: handle the {a} {b} case properly"),
        5 => format!("use crate::{a}::{{{t}, {t}Error}};"),
        6 => format!("export async function {a}{t}({b}: {t}): Promise<void> {{"),
        7 => format!("const {a} = await this.{b}Service.find({{ id: {b}.id }});"),
        8 => format!("def {a}_{b}(self, {b}: \"{t}\") -> Optional[{t}]:"),
        9 => format!("    return self._{a}.get({b}.id)"),
        10 => String::new(),
        11 => format!("pub struct {t} {{"),
        12 => format!("    pub {a}_id: String,"),
        13 => format!("logger.info(\"{a} {b} updated\", {{ id: {a}.id }});"),
        14 => format!("assert_eq!({a}.{b}, expected.{b}, \"{b} mismatch\");"),
        15 => format!("for {a} in {b}s.iter().filter(|x| x.active) {{"),
        16 => format!("    total += {a}.amount * {};", rng.random_range(1..=100)),
        17 => format!("match {a} {{ Some(v) => v, None => return Err(Error::Missing(\"{b}\")) }}"),
        18 => format!("import {{ {t} }} from '../{a}/{b}';"),
        19 => format!("    \"{a}\": \"{b}\","),
        20 => format!("fn {a}_{b}_round_trip() {{"),
        21 => format!(
            "const MAX_{}: usize = {};",
            a.to_uppercase(),
            rng.random_range(8..=4096)
        ),
        22 => format!("    raise ValueError(f\"bad {a}: {{{b}!r}}\")"),
        23 => format!("    .map(|{a}| {a}.{b}.clone())"),
        24 => format!("SELECT id, {a}_id, created_at FROM {b}s WHERE id = $1;"),
        25 => format!("/// Returns the {a} for this {b}, or `None` if it was deleted."),
        26 => format!(
            "self.{a} = {t}::new(&{b}, Duration::from_secs({}));",
            rng.random_range(1..=600)
        ),
        _ => format!("    }} else if {a}.status == Status::{t} {{"),
    };
    if body.is_empty() {
        body
    } else {
        format!("{indent}{body}")
    }
}

pub const SOURCE_FILES: &[&str] = &[
    "src/main.rs",
    "src/lib.rs",
    "src/handlers/users.rs",
    "src/db/migrations.rs",
    "src/config.rs",
    "src/http/client.rs",
    "src/auth/token.rs",
    "app/routes/orders.ts",
    "app/components/Settings.tsx",
    "src/jobs/reconcile.py",
    "tests/test_export.py",
    "internal/store/cache.go",
    "README.md",
    "package.json",
    "Cargo.toml",
    "src/api/middleware/rate_limit.rs",
    "src/models/invoice.rs",
    "lib/core/queue.ts",
];
