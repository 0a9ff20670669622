DROP TABLE alert_state;
DROP TABLE alert_deliveries;
DROP TABLE alerts;
DROP TABLE alert_rules;
