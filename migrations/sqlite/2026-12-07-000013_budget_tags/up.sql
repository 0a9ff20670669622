-- Budgets on a tag value too (team=matchmaking, cost-center=4711): the
-- tag is 'key=value', or '' for budgets on platforms, regions and services
-- only; it is part of what identifies a budget.
CREATE TABLE budgets_tagged (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL DEFAULT 'all',
    tag TEXT NOT NULL DEFAULT '',
    basis TEXT NOT NULL DEFAULT 'effective',
    amount_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (month, platform, region, service, tag, basis, currency)
);
INSERT INTO budgets_tagged (month, platform, region, service, basis, amount_micros, currency, note)
    SELECT month, platform, region, service, basis, amount_micros, currency, note FROM budgets ORDER BY id;
DROP TABLE budgets;
ALTER TABLE budgets_tagged RENAME TO budgets;
