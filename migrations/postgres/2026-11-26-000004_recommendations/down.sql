DROP TABLE aws_advice;
DROP TABLE commitments;
DROP TABLE instance_prices;
DROP TABLE instance_types;
