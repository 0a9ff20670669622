CREATE TABLE budgets_plain (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    month TEXT NOT NULL,
    platform TEXT NOT NULL,
    region TEXT NOT NULL,
    amount_micros BIGINT NOT NULL,
    currency TEXT NOT NULL,
    UNIQUE (month, platform, region)
);
INSERT INTO budgets_plain (month, platform, region, amount_micros, currency)
    SELECT month, platform, region, amount_micros, currency FROM budgets
    WHERE service = 'all' AND basis = 'effective';
DROP TABLE budgets;
ALTER TABLE budgets_plain RENAME TO budgets;
