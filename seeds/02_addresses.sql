One address per customer, linked through fk_customerid.

-- migrate:up
INSERT INTO addresses (street, phone, fk_customerid) VALUES
    ('W NORMA ST',      '(251) 546-9442', '8b9c2f2a-6f1e-11ee-8c99-0242ac120002'),
    ('SW 8TH AVE',      '(671) 925-1352', '8b9c3196-6f1e-11ee-8c99-0242ac120002'),
    ('N MAIN ST',       '(342) 231-8872', '8b9c32fe-6f1e-11ee-8c99-0242ac120002'),
    ('E ELM AVE',       '(425) 712-6653', '8b9c3452-6f1e-11ee-8c99-0242ac120002'),
    ('S PARK RD',       '(209) 448-1207', '8b9c35a6-6f1e-11ee-8c99-0242ac120002'),
    ('W LAKE DR',       '(318) 664-0915', '8b9c36f0-6f1e-11ee-8c99-0242ac120002');

-- migrate:down
DELETE FROM addresses WHERE fk_customerid IN (
    '8b9c2f2a-6f1e-11ee-8c99-0242ac120002', '8b9c3196-6f1e-11ee-8c99-0242ac120002',
    '8b9c32fe-6f1e-11ee-8c99-0242ac120002', '8b9c3452-6f1e-11ee-8c99-0242ac120002',
    '8b9c35a6-6f1e-11ee-8c99-0242ac120002', '8b9c36f0-6f1e-11ee-8c99-0242ac120002');
