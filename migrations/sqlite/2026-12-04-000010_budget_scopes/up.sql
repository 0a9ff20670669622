-- Budgets for any platform, region and service (each 'all' or one
-- value), on billed or effective cost, with a note of who set them why.
CREATE TABLE budgets_scoped (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL DEFAULT 'all',
    basis TEXT NOT NULL DEFAULT 'effective',
    amount_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    UNIQUE (month, platform, region, service, basis, currency)
);
INSERT INTO budgets_scoped (month, platform, region, amount_micros, currency)
    SELECT month, platform, region, amount_micros, currency FROM budgets;
DROP TABLE budgets;
ALTER TABLE budgets_scoped RENAME TO budgets;
