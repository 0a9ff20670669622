DROP TABLE scenarios;
