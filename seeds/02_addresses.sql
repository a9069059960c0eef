One address per customer, linked through fk_customerid: ${uuid:KEY} is the
customer's uuid from 01_customers.sql (the same KEY gives the same UUID in a run).

-- migrate:up
INSERT INTO addresses (street, phone, fk_customerid) VALUES
    ('W NORMA ST',      '(251) 546-9442', '${uuid:jack}'),
    ('SW 8TH AVE',      '(671) 925-1352', '${uuid:mary}'),
    ('N MAIN ST',       '(342) 231-8872', '${uuid:peter}'),
    ('E ELM AVE',       '(425) 712-6653', '${uuid:amos}'),
    ('S PARK RD',       '(209) 448-1207', '${uuid:craig}'),
    ('W LAKE DR',       '(318) 664-0915', '${uuid:laura}');

-- migrate:down
DELETE FROM addresses WHERE fk_customerid IN ('${uuid:jack}', '${uuid:mary}', '${uuid:peter}',
    '${uuid:amos}', '${uuid:craig}', '${uuid:laura}');
