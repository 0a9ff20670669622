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
INSERT INTO budgets_scoped (month, platform, region, service, basis, amount_micros, currency, note)
    SELECT month, platform, region, service, basis, amount_micros, currency, note FROM budgets WHERE tag = '';
DROP TABLE budgets;
ALTER TABLE budgets_scoped RENAME TO budgets;
