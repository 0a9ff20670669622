-- Forecast scenarios (forecasts/scenarios/*.toml): the file's text, kept
-- as written, by scenario name. Parsed again when used.
CREATE TABLE scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
