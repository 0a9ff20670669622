DROP TABLE allocation_rules;
DROP TABLE cost_resource_daily;
