DROP INDEX audit_log_group;
ALTER TABLE audit_log DROP COLUMN group_key;
ALTER TABLE audit_log DROP COLUMN last_at;
ALTER TABLE audit_log DROP COLUMN repeats;
DROP TABLE sign_in_limits;
