DROP TABLE export_deliveries;
DROP TABLE scheduled_jobs;
