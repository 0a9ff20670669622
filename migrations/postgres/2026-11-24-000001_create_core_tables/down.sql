DROP TABLE budgets;
DROP TABLE calendar_events;
DROP TABLE utilisation;
DROP TABLE player_activity;
DROP TABLE cost_daily;
DROP TABLE ingest_runs;
