ALTER TABLE instance_prices DROP COLUMN origin;
