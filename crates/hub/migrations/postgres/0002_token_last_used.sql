-- When a token was last presented (docs/HUB_API.md#tokens-and-tenants),
-- recorded at most once a minute per token; NULL if never.
ALTER TABLE tokens ADD COLUMN last_used_at BIGINT;
