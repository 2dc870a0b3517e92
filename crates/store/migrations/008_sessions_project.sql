-- Sessions by project, newest activity first: the views of one project
-- (MCP `sessions`, the dashboard) read only its sessions (crates/store/src/views.rs).
CREATE INDEX IF NOT EXISTS sessions_project ON sessions (project, last_seen);
