-- Imported billing data before allocation, at resource × day grain, with
-- the inputs allocation rules read (account, resource, tags as JSON).
-- cost_daily is derived from it, so a rule change re-applies to stored data.
CREATE TABLE cost_resource_daily (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    day TEXT NOT NULL,
    billing_period TEXT NOT NULL,
    billing_account TEXT NOT NULL,
    provider TEXT NOT NULL,
    account_id TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    charge_category TEXT NOT NULL,
    source TEXT NOT NULL,
    currency TEXT NOT NULL,
    resource TEXT NOT NULL,
    tags TEXT NOT NULL,
    -- What the allocation rules made of it: a platform, shared or unallocated.
    allocated_to TEXT NOT NULL,
    -- The commitment discount that applied (FOCUS CommitmentDiscountId,
    -- Type, Status; CUR Savings Plan or reservation ARN); empty when none.
    commitment_id TEXT NOT NULL DEFAULT '',
    commitment_type TEXT NOT NULL DEFAULT '',
    commitment_status TEXT NOT NULL DEFAULT '',
    billed_micros BIGINT NOT NULL,
    effective_micros BIGINT NOT NULL,
    list_micros BIGINT,
    usage_quantity REAL,
    usage_unit TEXT,
    estimated INTEGER NOT NULL DEFAULT 0,
    ingest_run_id BIGINT
);
CREATE INDEX cost_resource_daily_scope ON cost_resource_daily (source, provider, billing_account, billing_period);
CREATE INDEX cost_resource_daily_day ON cost_resource_daily (source, day);

-- Ordered rules that give each cost a player platform. kind: tag (pattern
-- is a tag key), account (pattern is an account id), resource (pattern is
-- a regular expression over the resource name or id). platform: a
-- platform, '' for "the tag's value names the platform", or 'shared' for
-- a split across platforms by driver (player_hours, peak_players, equal).
CREATE TABLE allocation_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    pattern TEXT NOT NULL,
    platform TEXT NOT NULL,
    driver TEXT NOT NULL,
    note TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

INSERT INTO allocation_rules (position, kind, pattern, platform, driver, note, updated_at) VALUES
    (1, 'tag', 'platform', '', 'player_hours', 'Cost-allocation tag platform = PC, PlayStation, … or shared', CURRENT_TIMESTAMP),
    (2, 'tag', 'Platform', '', 'player_hours', '', CURRENT_TIMESTAMP),
    (3, 'tag', 'game_platform', '', 'player_hours', '', CURRENT_TIMESTAMP);
